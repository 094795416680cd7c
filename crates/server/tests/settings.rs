//! The service key generated at first start is stored with the database and read back at
//! every later start, on both engines.

use tessera_testkit::{engine_tests, Database};

engine_tests! {
    /// The first call generates and stores a key; the next one reads the same key back.
    async fn the_service_key_is_generated_once_and_then_reused(db: Database) {
        let (first, created) = tessera_server::settings::load_or_create_service_key(db.url())
            .await
            .expect("first start");
        assert!(created, "the first start generates the key");
        let (again, created) = tessera_server::settings::load_or_create_service_key(db.url())
            .await
            .expect("second start");
        assert!(!created, "a later start reads the stored key");
        assert_eq!(first.expose(), again.expose());
        assert_eq!(first.expose().len(), 43, "32 random bytes, base64url");
    }
}
