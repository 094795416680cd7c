//! The seed documents' schemas, once imported, migrate on SQLite and PostgreSQL and serve
//! reads: an import is a starting point that runs, not only one that checks.

use std::path::Path;

use tessera_interop::Import;
use tessera_migrate::{migrate_to, MigrateOptions};
use tessera_testkit::{engine_tests, Database};

/// The seed file, when the seed documents are present on this machine.
fn seed(name: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/seeds"
    ))
    .join(name);
    path.exists().then_some(path)
}

fn mermaid(name: &str) -> Option<Import> {
    seed(name).map(|p| tessera_interop::import::mermaid::import_path(&p).expect("imports"))
}

fn sql(name: &str) -> Option<Import> {
    seed(name).map(|p| {
        tessera_interop::import::sql::import_path(
            &p,
            tessera_interop::import::sql::Dialect::Postgres,
        )
        .expect("imports")
    })
}

/// Migrates, connects the runtime and reads every model once.
async fn migrates_and_serves_every_model(import: Option<Import>, db: Database) {
    let Some(import) = import else { return };
    migrate_to(&import.schema, db.url(), &MigrateOptions::default())
        .await
        .unwrap_or_else(|e| panic!("migrate on {}: {e}\n{}", db.engine(), import.text));
    let engine = tessera_runtime::Engine::connect(import.schema.clone(), db.url())
        .await
        .expect("connects");
    let ctx = tessera_runtime::Caller::service();
    for model in &import.schema.models {
        let request =
            tessera_runtime::parse_read(&model.name, &[("limit".to_string(), "1".to_string())])
                .unwrap_or_else(|e| panic!("{}: {e:?}", model.name));
        engine
            .read(&ctx, &request)
            .await
            .unwrap_or_else(|e| panic!("read {} on {}: {e:?}", model.name, db.engine()));
    }
    engine.close().await;
}

engine_tests! {
    async fn seed_000_mermaid_import_migrates_and_serves(db: Database) {
        migrates_and_serves_every_model(mermaid("000_00deaa0716ea245e.txt"), db).await;
    }

    async fn seed_002_mermaid_import_migrates_and_serves(db: Database) {
        migrates_and_serves_every_model(mermaid("002_42519b8c0fd813ec.txt"), db).await;
    }

    async fn seed_003_mermaid_import_migrates_and_serves(db: Database) {
        migrates_and_serves_every_model(mermaid("003_87ea2d73044c6fcf.txt"), db).await;
    }

    async fn seed_004_sql_import_migrates_and_serves(db: Database) {
        migrates_and_serves_every_model(sql("004_146118f93b17e25a.txt"), db).await;
    }
}
