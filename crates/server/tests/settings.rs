//! The service key generated at first start is stored with the database and read back at
//! every later start, on both engines; a database never migrated is named as such.

mod common;

use tessera_server::settings::{load_or_create_service_key, SettingsError};
use tessera_sql::Database as Pool;
use tessera_testkit::{engine_tests, Database};

engine_tests! {
    /// The first call generates and stores a key; the next one reads the same key back.
    async fn the_service_key_is_generated_once_and_then_reused(db: Database) {
        common::migrate(&common::tour_builder_schema(), db.url()).await;
        let pool = Pool::connect(db.url()).await.expect("connect");
        let (first, created) = load_or_create_service_key(&pool).await.expect("first start");
        assert!(created, "the first start generates the key");
        let (again, created) = load_or_create_service_key(&pool).await.expect("second start");
        assert!(!created, "a later start reads the stored key");
        assert_eq!(first.expose(), again.expose());
        assert_eq!(first.expose().len(), 43, "32 random bytes, base64url");
    }

    /// Settings are not created on first use: without the migration that creates their
    /// table, reading them says to migrate.
    async fn settings_of_a_database_never_migrated_say_to_migrate(db: Database) {
        let pool = Pool::connect(db.url()).await.expect("connect");
        let error = load_or_create_service_key(&pool).await.expect_err("not migrated");
        assert!(matches!(error, SettingsError::NotMigrated), "{error:?}");
        assert!(error.to_string().contains("tessera migrate"), "{error}");
    }
}
