//! The multitenant app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and the rules of the multi-tenant SaaS DDL (seed 004) hold.

mod support;

#[path = "access/multitenant.rs"]
mod access_world;

use access_world::TenantWorld;
use support::access::{
    assert_none, assert_readme_shows, check_creates, check_deletes, check_reads, check_updates,
};

use serde_json::{json, Value};
use support::walk::assert_every_model_round_trips;
use support::AppServer;
use tessera_testkit::{engine_tests, Database};

const APP: &str = "multitenant";

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/multitenant/README.md"
    ))
    .expect("the app's README")
}

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

async fn tenant(server: &AppServer, slug: &str) -> Value {
    server
        .create(
            "Tenant",
            json!({ "name": slug, "slug": slug, "databaseUrl": format!("postgres://db/{slug}") }),
        )
        .await
}

async fn user(server: &AppServer, email: &str) -> Value {
    server.create("User", json!({ "email": email })).await
}

/// `PATCH` with `Prefer: tessera-json=merge`: JSON fields are merged into the stored ones.
async fn merge(server: &AppServer, path: &str, body: Value) -> support::Response {
    support::server::send(
        server
            .request(reqwest::Method::PATCH, path)
            .header("prefer", "return=representation,tessera-json=merge")
            .json(&body),
    )
    .await
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn tenant_security_policy_defaults_to_the_documented_document(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let policy = &t["securityPolicy"];
        assert_eq!(policy["session"]["maxConcurrentSessions"], 3, "{policy}");
        assert_eq!(policy["session"]["sessionTimeout"], 3600, "{policy}");
        assert_eq!(policy["twoFactor"]["graceLogins"], 3, "{policy}");
        assert_eq!(policy["twoFactor"]["enforcementDate"], Value::Null, "{policy}");
        assert_eq!(policy["ipRestrictions"]["allowedIPs"], json!([]), "{policy}");
        assert_eq!((&t["status"], &t["onboardingStatus"], &t["gracePeriodDays"]), (&json!("active"), &json!("pending"), &json!(7)));
    }

    async fn updating_one_security_policy_key_with_merge_keeps_the_others(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let updated = merge(
            &server,
            &format!("/rest/v1/Tenant?id=eq.{}", id(&t)),
            json!({ "securityPolicy": { "twoFactor": { "required": true } } }),
        )
        .await
        .expect(200, "merge");
        let policy = &updated.row()["securityPolicy"];
        assert_eq!(policy["twoFactor"]["required"], true, "{policy}");
        assert_eq!(policy["twoFactor"]["graceLogins"], 3, "{policy}");
        assert_eq!(policy["session"]["maxConcurrentSessions"], 3, "{policy}");
    }

    async fn updating_a_json_field_without_merge_replaces_it(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let updated = server
            .patch(&format!("/rest/v1/Tenant?id=eq.{}", id(&t)), json!({ "securityPolicy": { "twoFactor": { "required": true } } }))
            .await
            .expect(200, "replace");
        assert_eq!(updated.row()["securityPolicy"], json!({ "twoFactor": { "required": true } }));
    }

    async fn user_profile_and_email_preferences_default_to_the_documented_documents(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        assert_eq!(u["profile"]["timezone"], "UTC", "{u}");
        assert_eq!(u["profile"]["language"], "en", "{u}");
        assert_eq!(u["profile"]["skills"], json!([]), "{u}");
        assert_eq!(u["profile"]["socialLinks"], json!({}), "{u}");
        assert_eq!(u["emailPreferences"], json!({ "marketing": true, "updates": true, "security": true, "newsletter": false }));
        assert_eq!(u["preferences"], json!({}));
        assert_eq!((&u["status"], &u["failedLoginAttempts"], &u["twoFactorEnabled"]), (&json!("active"), &json!(0), &json!(false)));
    }

    async fn updating_one_profile_key_with_merge_keeps_the_others(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        let updated = merge(
            &server,
            &format!("/rest/v1/User?id=eq.{}", id(&u)),
            json!({ "profile": { "language": "hu", "skills": null }, "emailPreferences": { "marketing": false } }),
        )
        .await
        .expect(200, "merge");
        let row = updated.row();
        assert_eq!(row["profile"]["language"], "hu");
        assert_eq!(row["profile"]["timezone"], "UTC");
        assert!(row["profile"].get("skills").is_none(), "{}", row["profile"]);
        assert_eq!(row["emailPreferences"], json!({ "marketing": false, "updates": true, "security": true, "newsletter": false }));
    }

    async fn user_email_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        user(&server, "a@example.com").await;
        let again = server.post("/rest/v1/User", json!({ "email": "a@example.com" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn user_status_is_one_of_the_documented_states(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/User", json!({ "email": "a@example.com", "status": "banned" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "status" && r == "enum"), "{}", bad.body);
        server.create("User", json!({ "email": "b@example.com", "status": "suspended" })).await;
    }

    async fn user_password_is_hashed_and_an_imported_bcrypt_hash_is_kept(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let fresh = server.create("User", json!({ "email": "a@example.com", "password": "hunter2" })).await;
        assert!(fresh.get("password").is_none(), "{fresh}");
        let bcrypt = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        server.create("User", json!({ "email": "b@example.com", "password": bcrypt })).await;
        let pool = db.pool().await.expect("connect");
        let argon = pool.fetch_i64("SELECT count(*) FROM \"Users\" WHERE password LIKE '$argon2id$%'").await.expect("count");
        let kept = pool
            .fetch_i64(&format!("SELECT count(*) FROM \"Users\" WHERE password = '{bcrypt}'"))
            .await
            .expect("count");
        assert_eq!((argon, kept), (1, 1));
    }

    async fn two_factor_secrets_backup_codes_and_tokens_are_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = server
            .create(
                "User",
                json!({ "email": "a@example.com", "twoFactorSecret": "JBSW", "twoFactorBackupCodes": ["1111", "2222"],
                        "verificationToken": "v", "resetToken": "r", "currentChallenge": "c" }),
            )
            .await;
        for secret in ["twoFactorSecret", "twoFactorBackupCodes", "verificationToken", "resetToken", "currentChallenge"] {
            assert!(u.get(secret).is_none(), "{secret} returned: {u}");
        }
    }

    async fn deleting_a_user_soft_deletes_it(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        server.delete(&format!("/rest/v1/User?id=eq.{}", id(&u))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/User").await.rows().is_empty());
        let deleted = server.get("/rest/v1/User?_deleted=only").await;
        assert!(!deleted.row()["deletedAt"].is_null(), "{}", deleted.body);
    }

    /// The service key, which alone writes the database URL, reads it back.
    async fn tenant_slug_and_database_url_are_unique_and_the_service_reads_the_url(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        assert_eq!(t["databaseUrl"], "postgres://db/acme");
        let same_slug = server.post("/rest/v1/Tenant", json!({ "name": "x", "slug": "acme", "databaseUrl": "postgres://db/x" })).await;
        assert_eq!(same_slug.status, 409, "{}", same_slug.body);
        let same_url = server.post("/rest/v1/Tenant", json!({ "name": "x", "slug": "x", "databaseUrl": "postgres://db/acme" })).await;
        assert_eq!(same_url.status, 409, "{}", same_url.body);
    }

    /// A member reading their tenant sees its database URL as null, and may not set it.
    async fn a_tenant_member_reads_the_database_url_as_null_and_cannot_set_it(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let (token, me) = server.signed_up("ann@example.com").await;
        server.create("TenantUser", json!({ "userId": id(&me), "tenantId": id(&t) })).await;
        let as_member = |method, path: &str| {
            server.request_as(Some(&token), method, path).header("x-tenant", id(&t))
        };
        let path = format!("/rest/v1/Tenant?id=eq.{}", id(&t));
        let read = support::send(as_member(reqwest::Method::GET, &path)).await.expect(200, "a member reads their tenant");
        assert_eq!(read.rows().len(), 1, "{}", read.body);
        assert!(read.row()["databaseUrl"].is_null(), "{}", read.body);
        let set = support::send(as_member(reqwest::Method::PATCH, &path).json(&json!({ "databaseUrl": "postgres://elsewhere/acme" }))).await;
        assert_eq!(set.status, 403, "{}", set.body);
        assert_eq!(server.get(&path).await.row()["databaseUrl"], "postgres://db/acme");
    }

    async fn a_user_joins_a_tenant_once_and_embeds_through_tenant_users(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let u = user(&server, "a@example.com").await;
        let link = server.create("TenantUser", json!({ "userId": id(&u), "tenantId": id(&t), "roles": ["admin"] })).await;
        assert_eq!(link["roles"], json!(["admin"]));
        let again = server.post("/rest/v1/TenantUser", json!({ "userId": id(&u), "tenantId": id(&t) })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get("/rest/v1/User?select=email,tenants(slug)").await.expect(200, "embed");
        assert_eq!(read.row()["tenants"], json!([{ "slug": "acme" }]), "{}", read.body);
        let admins = server.get("/rest/v1/TenantUser?roles=cs.{admin}").await;
        assert_eq!(admins.rows().len(), 1, "{}", admins.body);
    }

    async fn deleting_a_tenant_deletes_its_memberships_roles_and_invitations(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "acme").await;
        let u = user(&server, "a@example.com").await;
        server.create("TenantUser", json!({ "userId": id(&u), "tenantId": id(&t) })).await;
        server.create("Role", json!({ "name": "admin", "tenantId": id(&t) })).await;
        server
            .create(
                "Invitation",
                json!({ "email": "b@example.com", "token": "t", "expiresAt": "2030-01-01T00:00:00.000", "tenantId": id(&t), "invitedById": id(&u) }),
            )
            .await;
        server.delete(&format!("/rest/v1/Tenant?id=eq.{}", id(&t))).await.expect(200, "delete");
        for model in ["TenantUser", "Role", "Invitation"] {
            assert!(server.get(&format!("/rest/v1/{model}")).await.rows().is_empty(), "{model} kept");
        }
    }

    async fn role_name_is_unique_per_tenant(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let (a, b) = (tenant(&server, "a").await, tenant(&server, "b").await);
        server.create("Role", json!({ "name": "admin", "tenantId": id(&a) })).await;
        server.create("Role", json!({ "name": "admin", "tenantId": id(&b) })).await;
        let again = server.post("/rest/v1/Role", json!({ "name": "admin", "tenantId": id(&a) })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn a_permission_is_granted_to_a_role_once(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "a").await;
        let role = server.create("Role", json!({ "name": "admin", "tenantId": id(&t) })).await;
        let perm = server.create("Permission", json!({ "name": "users:read", "resource": "users", "action": "read" })).await;
        let grant = json!({ "roleId": id(&role), "permissionId": id(&perm) });
        server.create("RolePermission", grant.clone()).await;
        let again = server.post("/rest/v1/RolePermission", grant).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let read = server.get("/rest/v1/Role?select=name,permissions(name)").await.expect(200, "embed");
        assert_eq!(read.row()["permissions"], json!([{ "name": "users:read" }]), "{}", read.body);
    }

    async fn invitation_starts_pending_and_its_token_is_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let t = tenant(&server, "a").await;
        let u = user(&server, "a@example.com").await;
        let inv = server
            .create(
                "Invitation",
                json!({ "email": "b@example.com", "token": "t", "expiresAt": "2030-01-01T00:00:00.000", "tenantId": id(&t), "invitedById": id(&u) }),
            )
            .await;
        assert_eq!(inv["status"], "pending");
        assert!(inv.get("token").is_none(), "{inv}");
    }

    async fn oauth_client_id_is_unique_and_its_secret_is_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let client = server
            .create("OAuthClient", json!({ "clientId": "web", "clientSecret": "s", "name": "Web", "type": "confidential", "grants": ["authorization_code"] }))
            .await;
        assert!(client.get("clientSecret").is_none(), "{client}");
        assert_eq!(client["redirectUris"], json!([]));
        let again = server.post("/rest/v1/OAuthClient", json!({ "clientId": "web", "name": "Other", "type": "public" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn deleting_an_oauth_client_deletes_its_tokens(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let client = server.create("OAuthClient", json!({ "clientId": "web", "name": "Web", "type": "public" })).await;
        let token = server
            .create("OAuthToken", json!({ "accessToken": "at", "accessTokenExpiresAt": "2030-01-01T00:00:00.000", "clientId": id(&client) }))
            .await;
        assert!(token.get("accessToken").is_none(), "{token}");
        server.delete(&format!("/rest/v1/OAuthClient?id=eq.{}", id(&client))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/OAuthToken").await.rows().is_empty());
    }

    async fn authenticator_credential_id_is_unique_and_named_by_default(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        let row = json!({ "userId": id(&u), "credentialID": "\\x0a0b", "credentialPublicKey": "\\x01" });
        let auth = server.create("Authenticator", row.clone()).await;
        assert_eq!((&auth["friendlyName"], &auth["counter"]), (&json!("Primary Authenticator"), &json!(0)));
        let again = server.post("/rest/v1/Authenticator", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn login_history_status_is_success_or_failed(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        let bad = server.post("/rest/v1/LoginHistory", json!({ "userId": id(&u), "status": "maybe" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        server.create("LoginHistory", json!({ "userId": id(&u), "status": "failed" })).await;
    }

    /// Each user reads exactly their own rows and those of the tenant they name and belong
    /// to, as the README's access table says; the table covers every model.
    async fn every_read_cell_of_the_access_table_holds(db: Database) {
        let world = TenantWorld::build(AppServer::start(APP, &db).await).await;
        let matrix = access_world::matrix();
        matrix.assert_complete(&world.server);
        assert_none(check_reads(&world, &matrix).await);
        assert_readme_shows(&readme(), &matrix);
    }

    /// No caller but the service creates rows, tenant members and admins included.
    async fn every_create_cell_of_the_access_table_holds(db: Database) {
        let world = TenantWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_creates(&world, &access_world::matrix()).await);
    }

    /// Users change their own profile and notifications only.
    async fn every_update_cell_of_the_access_table_holds(db: Database) {
        let world = TenantWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_updates(&world, &access_world::matrix()).await);
    }

    /// Users remove their own passkeys, OAuth tokens and notifications only.
    async fn every_delete_cell_of_the_access_table_holds(db: Database) {
        let world = TenantWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_deletes(&world, &access_world::matrix()).await);
    }

    /// A user signs up, reads and edits their own profile, and cannot give themselves a
    /// status, a tenant or a role.
    async fn a_user_manages_their_own_account_only(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let (token, me) = server.signed_up_with("ann@example.com", json!({ "name": "Ann" })).await;
        let path = format!("/rest/v1/User?id=eq.{}", id(&me));
        let renamed = support::send(server.request_as(Some(&token), reqwest::Method::PATCH, &path).json(&json!({ "name": "Ann B." })))
            .await
            .expect(200, "a profile change");
        assert_eq!(renamed.row()["name"], "Ann B.");
        let promoted = support::send(server.request_as(Some(&token), reqwest::Method::PATCH, &path).json(&json!({ "status": "active", "emailVerified": true }))).await;
        assert_eq!(promoted.status, 422, "{}", promoted.body);
        let t = tenant(&server, "acme").await;
        let joined = support::send(
            server
                .request_as(Some(&token), reqwest::Method::POST, "/rest/v1/TenantUser")
                .json(&json!({ "userId": id(&me), "tenantId": id(&t), "roles": ["admin"] })),
        )
        .await;
        assert_eq!(joined.status, 403, "{}", joined.body);
        // The refused membership leaves the tenant out of reach, even named.
        let tenants = support::send(server.request_as(Some(&token), reqwest::Method::GET, "/rest/v1/Tenant").header("x-tenant", id(&t)))
            .await
            .expect(200, "a read of tenants");
        assert!(tenants.rows().is_empty(), "{}", tenants.body);
    }
}
