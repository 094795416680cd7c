//! The tour-builder app through the HTTP API, on SQLite and PostgreSQL: every model
//! round-trips, and every rule of the Tour Builder document (seed 001) holds.

mod support;

#[path = "access/tour_builder.rs"]
mod access_world;

use access_world::{Proj, TourWorld};
use reqwest::Method;
use serde_json::{json, Value};
use support::access::{
    assert_none, assert_readme_shows, check_creates, check_deletes, check_reads, check_updates,
    World,
};
use support::walk::assert_every_model_round_trips;
use support::{send, AppServer};
use tessera_testkit::{engine_tests, Database};

const APP: &str = "tour-builder";

fn readme() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/tour-builder/README.md"
    ))
    .expect("the app's README")
}

async fn project(server: &AppServer, slug: &str) -> Value {
    server
        .create("projects", json!({ "name": "Tour", "slug": slug }))
        .await
}

async fn user(server: &AppServer, email: &str) -> Value {
    server
        .create(
            "users",
            json!({ "email": email, "password": "s3cret-pass" }),
        )
        .await
}

fn id(row: &Value) -> &str {
    row["id"].as_str().expect("an id")
}

engine_tests! {
    /// Every model can be created, read back with all its relations embedded, updated and
    /// deleted.
    async fn every_model_round_trips_through_the_api(db: Database) {
        assert_every_model_round_trips(APP, &db).await;
    }

    async fn project_slug_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        project(&server, "tour").await;
        let again = server.post("/rest/v1/projects", json!({ "name": "Other", "slug": "tour" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert_eq!(again.body["code"], "23505");
    }

    async fn project_slug_allows_only_letters_digits_dashes_and_underscores(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/projects", json!({ "name": "Tour", "slug": "my tour!" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "slug" && r == "pattern"), "{}", bad.body);
        server.create("projects", json!({ "name": "Tour", "slug": "My_tour-2" })).await;
    }

    async fn project_name_length_fails_with_the_documented_message(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let long = "x".repeat(256);
        let bad = server.post("/rest/v1/projects", json!({ "name": long, "slug": "tour" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(
            bad.errors().iter().any(|(f, r, m)| f == "name" && r == "len" && m == "Name must be between 1 and 255 characters"),
            "{}",
            bad.body
        );
    }

    async fn user_email_must_be_valid_with_the_documented_message(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/users", json!({ "email": "not-an-email", "password": "pw" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, _, m)| f == "email" && m == "Must be a valid email address"), "{}", bad.body);
    }

    async fn user_email_must_not_be_empty_with_the_documented_message(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/users", json!({ "email": "", "password": "pw" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, _, m)| f == "email" && m == "Email is required"), "{}", bad.body);
    }

    async fn user_email_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        user(&server, "ada@example.com").await;
        let again = server.post("/rest/v1/users", json!({ "email": "ada@example.com", "password": "pw" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn user_first_and_last_names_are_trimmed(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server
            .create("users", json!({ "email": "a@example.com", "password": "pw", "firstName": "  Ada ", "lastName": "\tLovelace  " }))
            .await;
        assert_eq!(row["firstName"], "Ada");
        assert_eq!(row["lastName"], "Lovelace");
    }

    async fn user_password_is_hashed_and_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = user(&server, "a@example.com").await;
        assert!(row.get("password").is_none(), "{row}");
        let read = server.get("/rest/v1/users").await;
        assert!(read.row().get("password").is_none(), "{}", read.body);
        let selected = server.get("/rest/v1/users?select=password").await;
        assert_eq!(selected.status, 400, "{}", selected.body);
        let pool = db.pool().await.expect("connect");
        let hashed = pool
            .fetch_i64("SELECT count(*) FROM users WHERE password LIKE '$argon2id$%'")
            .await
            .expect("count");
        assert_eq!(hashed, 1);
    }

    async fn user_password_keeps_an_imported_bcrypt_hash(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bcrypt = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        server.create("users", json!({ "email": "a@example.com", "password": bcrypt })).await;
        let pool = db.pool().await.expect("connect");
        let kept = pool
            .fetch_i64(&format!("SELECT count(*) FROM users WHERE password = '{bcrypt}'"))
            .await
            .expect("count");
        assert_eq!(kept, 1);
    }

    async fn user_verification_and_reset_tokens_are_never_returned(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server
            .create("users", json!({ "email": "a@example.com", "password": "pw", "emailVerificationToken": "t1", "passwordResetToken": "t2" }))
            .await;
        assert!(row.get("emailVerificationToken").is_none() && row.get("passwordResetToken").is_none(), "{row}");
    }

    async fn user_defaults_to_a_local_enabled_unverified_account(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = user(&server, "a@example.com").await;
        assert_eq!((&row["provider"], &row["disabled"], &row["emailVerified"]), (&json!("local"), &json!(false), &json!(false)));
    }

    async fn deleting_a_user_soft_deletes_it(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = user(&server, "a@example.com").await;
        server.delete(&format!("/rest/v1/users?id=eq.{}", id(&row))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/users").await.rows().is_empty());
        let deleted = server.get("/rest/v1/users?_deleted=only").await;
        assert_eq!(deleted.rows().len(), 1, "{}", deleted.body);
        assert!(!deleted.row()["deletedAt"].is_null());
    }

    async fn writes_record_no_client_chosen_actor(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let author = user(&server, "a@example.com").await;
        let forged = server
            .post("/rest/v1/projects", json!({ "name": "Tour", "slug": "t", "createdById": id(&author) }))
            .await;
        assert_eq!(forged.status, 422, "{}", forged.body);
        assert!(forged.errors().iter().any(|(f, r, _)| f == "createdById" && r == "managed"), "{}", forged.body);
    }

    /// createdBy/updatedBy come from the signed-in user: the creator stays, the last
    /// updater changes.
    async fn signed_in_writes_record_their_user_as_creator_and_updater(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let (ann_token, ann) = server.signed_up("ann@example.com").await;
        let (bob_token, bob) = server.signed_up("bob@example.com").await;
        let create_projects = server.create("permissions", json!({ "name": "CREATE_PROJECTS" })).await;
        server
            .create("usersCustom_permissionsPermissions", json!({ "userId": ann["id"], "permissionId": create_projects["id"] }))
            .await;
        let created = send(server.request_as(Some(&ann_token), Method::POST, "/rest/v1/projects").json(&json!({ "name": "Tour", "slug": "tour" })))
            .await
            .expect(201, "Ann creates a project");
        let project = created.row();
        assert_eq!((&project["createdById"], &project["updatedById"]), (&ann["id"], &ann["id"]));
        server
            .create("project_memberships", json!({ "projectId": project["id"], "userId": bob["id"], "access_level": "editor", "is_active": true }))
            .await;
        let path = format!("/rest/v1/projects?id=eq.{}", id(project));
        let updated = send(server.request_as(Some(&bob_token), Method::PATCH, &path).json(&json!({ "description": "Bob was here" })))
            .await
            .expect(200, "Bob, an editor, updates it");
        assert_eq!((&updated.row()["createdById"], &updated.row()["updatedById"]), (&ann["id"], &bob["id"]));
    }

    /// "Auto-verify email for OAuth providers": accounts of another provider start verified.
    async fn oauth_accounts_start_with_a_verified_email(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let oauth = server.create("users", json!({ "email": "g@example.com", "provider": "google" })).await;
        assert_eq!(oauth["emailVerified"], json!(true));
        let local = user(&server, "l@example.com").await;
        assert_eq!(local["emailVerified"], json!(false));
    }

    /// "Generate random password for OAuth if not provided": an OAuth account without a
    /// password gets an unguessable one; a local account still needs its own.
    async fn oauth_accounts_without_a_password_get_a_random_one(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("users", json!({ "email": "g@example.com", "provider": "github" })).await;
        let guess = send(server.client.post(server.url("/auth/v1/token?grant_type=password")).json(&json!({ "email": "g@example.com", "password": "" }))).await;
        assert_eq!((guess.status, guess.body["code"].clone()), (400, json!("invalid_credentials")), "{}", guess.body);
        let local = server.post("/rest/v1/users", json!({ "email": "l@example.com" })).await;
        assert_eq!(local.status, 422, "{}", local.body);
        assert!(local.errors().iter().any(|(f, r, _)| f == "password" && r == "required"), "{}", local.body);
    }

    /// An OAuth account given a password keeps it.
    async fn oauth_accounts_keep_a_given_password(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("users", json!({ "email": "g@example.com", "provider": "google", "password": "chosen-pass" })).await;
        let signed_in = send(server.client.post(server.url("/auth/v1/token?grant_type=password")).json(&json!({ "email": "g@example.com", "password": "chosen-pass" }))).await;
        assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    }

    /// A self-service sign-up sets names and phone only: not a role, not verification.
    async fn sign_up_cannot_choose_a_role_or_verify_itself(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let role = server.create("roles", json!({ "name": "Administrator" })).await;
        for extra in [json!({ "app_roleId": id(&role) }), json!({ "emailVerified": true })] {
            let mut body = json!({ "email": "m@example.com", "password": "s3cret-pass" });
            for (k, v) in extra.as_object().expect("object") {
                body[k] = v.clone();
            }
            let refused = server.sign_up(body).await;
            assert_eq!(refused.status, 400, "{}", refused.body);
        }
        assert!(server.get("/rest/v1/users").await.rows().is_empty());
        let (_, row) = server.signed_up("m@example.com").await;
        assert_eq!((&row["app_roleId"], &row["emailVerified"]), (&Value::Null, &json!(false)));
    }

    /// Each caller reads exactly the rows the README's access table gives them, and that
    /// table covers every model and every kind of caller.
    async fn every_read_cell_of_the_access_table_holds(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let matrix = access_world::matrix();
        matrix.assert_complete(&world.server);
        assert_readme_shows(&readme(), &matrix);
        assert_none(check_reads(&world, &matrix).await);
    }

    /// Each caller creates exactly the rows the access table allows, and is refused the
    /// others with 401 (anonymous) or 403.
    async fn every_create_cell_of_the_access_table_holds(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_creates(&world, &access_world::matrix()).await);
    }

    /// An update of every row changes exactly the rows the access table gives the caller.
    async fn every_update_cell_of_the_access_table_holds(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_updates(&world, &access_world::matrix()).await);
    }

    /// A delete of fresh rows removes exactly those the access table gives the caller.
    async fn every_delete_cell_of_the_access_table_holds(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        assert_none(check_deletes(&world, &access_world::matrix()).await);
    }

    /// Publishing changes a project's content: its editors, owners and holders of
    /// UPDATE_PROJECTS publish it; other members and outsiders find no such project.
    async fn only_editors_owners_and_permission_holders_publish_a_project(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let team = &world.projects[&Proj::Team];
        let path = format!("/rest/v1/projects/publish?id=eq.{team}");
        for (caller, status) in [
            ("anonymous", 401),
            ("outsider", 404),
            ("invitee", 404),
            ("customer", 404),
            ("viewer", 404),
            ("reviewer", 404),
            ("editor", 200),
            ("owner", 200),
            ("creator", 200),
            ("admin", 200),
            ("custom", 200),
        ] {
            let token = world.token(caller);
            let run = send(world.server.request_as(token.as_deref(), Method::POST, &path).json(&json!({ "from": "dev", "to": "stage" }))).await;
            assert_eq!(run.status, status, "{caller} publishes: {}", run.body);
        }
        let log = world.server.get(&format!("/rest/v1/publish_events?projectId=eq.{team}&status=eq.success")).await;
        assert_eq!(log.rows().len(), 5, "{}", log.body);
    }

    /// Embedded content is read under the same rules as the content itself: a viewer sees
    /// the production pages of the team's project only, and an outsider sees the public
    /// presentation without its drafts.
    async fn embedded_content_follows_the_access_rules(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let path = "/rest/v1/projects?select=slug,tour_pages_project(environment),project_memberships_project(access_level)&order=slug";
        let viewer = send(world.server.request_as(world.token("viewer").as_deref(), Method::GET, path)).await.expect(200, "viewer");
        assert_eq!(
            viewer.body,
            json!([
                { "slug": "public", "tour_pages_project": [{ "environment": "production" }], "project_memberships_project": [] },
                { "slug": "team", "tour_pages_project": [{ "environment": "production" }], "project_memberships_project": [{ "access_level": "viewer" }] },
            ])
        );
        let outsider = send(world.server.request_as(world.token("outsider").as_deref(), Method::GET, path)).await.expect(200, "outsider");
        assert_eq!(
            outsider.body,
            json!([{ "slug": "public", "tour_pages_project": [{ "environment": "production" }], "project_memberships_project": [] }])
        );
    }

    /// A write is checked on the row it leaves: an editor cannot move a page into a project
    /// they do not edit, nor turn a draft into production content.
    async fn an_editor_cannot_move_content_out_of_their_reach(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let editor = world.token("editor");
        let page = send(
            world
                .server
                .request_as(editor.as_deref(), Method::POST, "/rest/v1/tour_pages")
                .json(&json!({ "name": "Draft", "slug": "draft", "projectId": world.projects[&Proj::Team] })),
        )
        .await
        .expect(201, "the editor drafts a page");
        let path = format!("/rest/v1/tour_pages?id=eq.{}", page.row()["id"].as_str().expect("a page"));
        for change in [json!({ "projectId": world.projects[&Proj::Other] }), json!({ "environment": "production" })] {
            let moved = send(world.server.request_as(editor.as_deref(), Method::PATCH, &path).json(&change)).await;
            assert_eq!(moved.status, 403, "{change}: {}", moved.body);
        }
        let after = world.server.get(&path).await;
        assert_eq!((&after.row()["projectId"], &after.row()["environment"]), (&json!(world.projects[&Proj::Team]), &json!("dev")));
    }

    /// Users edit their own profile; the fields that grant rights stay with the service key,
    /// even for holders of UPDATE_USERS.
    async fn users_edit_their_own_profile_but_not_their_role(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let me = format!("/rest/v1/users?id=eq.{}", world.users["viewer"]);
        let renamed = send(world.server.request_as(world.token("viewer").as_deref(), Method::PATCH, &me).json(&json!({ "lastName": "Viewer" })))
            .await
            .expect(200, "a profile change");
        assert_eq!(renamed.row()["lastName"], "Viewer");
        for caller in ["viewer", "admin"] {
            let promoted = send(world.server.request_as(world.token(caller).as_deref(), Method::PATCH, &me).json(&json!({ "app_roleId": null, "disabled": true }))).await;
            assert_eq!(promoted.status, 422, "{caller}: {}", promoted.body);
        }
    }

    /// A phone number is personal: project owners read their members' accounts without
    /// it, the user and holders of READ_USERS with it, and no filter finds it.
    async fn phone_numbers_show_to_their_user_and_user_readers_only(db: Database) {
        let world = TourWorld::build(AppServer::start(APP, &db).await).await;
        let viewer = format!("/rest/v1/users?id=eq.{}", world.users["viewer"]);
        world.server.patch(&viewer, json!({ "phoneNumber": "+36 1 234 5678" })).await.expect(200, "the service key sets the number");
        for (caller, shown) in [("viewer", json!("+36 1 234 5678")), ("admin", json!("+36 1 234 5678")), ("custom", json!("+36 1 234 5678")), ("owner", Value::Null)] {
            let read = send(world.server.request_as(world.token(caller).as_deref(), Method::GET, &format!("{viewer}&select=email,phoneNumber"))).await.expect(200, caller);
            assert_eq!(read.row()["phoneNumber"], shown, "{caller}: {}", read.body);
            assert!(!read.row()["email"].is_null(), "{caller} reads the account: {}", read.body);
        }
        let probe = "/rest/v1/users?phoneNumber=like.*5678&select=id";
        let found = send(world.server.request_as(world.token("owner").as_deref(), Method::GET, probe)).await.expect(200, "owner probes");
        assert!(found.rows().is_empty(), "a hidden number is not matched: {}", found.body);
    }

    /// Users see only their own access log entries; roles are read-only for them.
    async fn access_logs_are_private_to_their_user(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let (ann_token, ann) = server.signed_up("ann@example.com").await;
        let (bob_token, _) = server.signed_up("bob@example.com").await;
        server.create("access_logs", json!({ "environment": "stage", "userId": ann["id"], "path": "/tours/1" })).await;
        let mine = send(server.request_as(Some(&ann_token), Method::GET, "/rest/v1/access_logs")).await.expect(200, "Ann's logs");
        assert_eq!(mine.rows().len(), 1);
        let theirs = send(server.request_as(Some(&bob_token), Method::GET, "/rest/v1/access_logs")).await.expect(200, "Bob's logs");
        assert!(theirs.rows().is_empty(), "{}", theirs.body);
        let role = send(server.request_as(Some(&bob_token), Method::POST, "/rest/v1/roles").json(&json!({ "name": "Self-made admin" }))).await;
        assert_eq!(role.status, 403, "{}", role.body);
    }

    async fn import_hash_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("projects", json!({ "name": "A", "slug": "a", "importHash": "h1" })).await;
        let again = server.post("/rest/v1/projects", json!({ "name": "B", "slug": "b", "importHash": "h1" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn tour_page_slug_is_unique_per_project_and_environment(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let page = json!({ "name": "Home", "slug": "home", "projectId": id(&p) });
        server.create("tour_pages", page.clone()).await;
        let again = server.post("/rest/v1/tour_pages", page).await;
        assert_eq!(again.status, 409, "{}", again.body);
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p), "environment": "stage" })).await;
        let other = project(&server, "q").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&other) })).await;
    }

    async fn tour_page_slug_allows_only_letters_digits_and_dashes(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/tour_pages", json!({ "name": "Home", "slug": "home_page" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "slug" && r == "pattern"), "{}", bad.body);
    }

    async fn tour_page_defaults_to_dev_first_without_auth(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("tour_pages", json!({ "name": "Home", "slug": "home" })).await;
        assert_eq!(row["environment"], "dev");
        assert_eq!(row["sort_order"], 0);
        assert_eq!(row["background_loop"], false);
        assert_eq!(row["requires_auth"], false);
    }

    async fn tour_page_environment_rejects_unknown_values(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/tour_pages", json!({ "name": "Home", "slug": "home", "environment": "qa" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "environment" && r == "enum"), "{}", bad.body);
    }

    async fn deleting_a_project_soft_deletes_its_pages(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        server.delete(&format!("/rest/v1/projects?id=eq.{}", id(&p))).await.expect(200, "delete project");
        assert!(server.get("/rest/v1/tour_pages").await.rows().is_empty());
        let deleted = server.get("/rest/v1/tour_pages?_deleted=only").await;
        assert_eq!(deleted.rows().len(), 1, "{}", deleted.body);
    }

    async fn restoring_a_project_restores_the_pages_its_delete_took(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        server.delete(&format!("/rest/v1/projects?id=eq.{}", id(&p))).await.expect(200, "delete project");
        let restored = support::server::send(
            server.request(reqwest::Method::POST, &format!("/rest/v1/projects/restore?id=eq.{}", id(&p))),
        )
        .await;
        assert!(restored.status < 300, "{}", restored.body);
        assert_eq!(server.get("/rest/v1/tour_pages").await.rows().len(), 1);
    }

    async fn deleting_a_role_clears_its_users_app_role(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let role = server.create("roles", json!({ "name": "Admin" })).await;
        let u = server
            .create("users", json!({ "email": "a@example.com", "password": "pw", "app_roleId": id(&role) }))
            .await;
        server.delete(&format!("/rest/v1/roles?id=eq.{}", id(&role))).await.expect(200, "delete role");
        let read = server.get(&format!("/rest/v1/users?id=eq.{}", id(&u))).await;
        assert_eq!(read.row()["app_roleId"], Value::Null, "{}", read.body);
    }

    async fn deleting_an_element_type_default_clears_the_overrides_copied_from_it(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let global = server.create("element_type_defaults", json!({ "element_type": "button", "name": "Button" })).await;
        let local = server
            .create("project_element_defaults", json!({ "element_type": "button", "projectId": id(&p), "source_element_id": id(&global) }))
            .await;
        server.delete(&format!("/rest/v1/element_type_defaults?id=eq.{}", id(&global))).await.expect(200, "delete");
        let read = server.get(&format!("/rest/v1/project_element_defaults?id=eq.{}", id(&local))).await;
        assert_eq!(read.rows().len(), 1, "{}", read.body);
        assert_eq!(read.row()["source_element_id"], Value::Null, "{}", read.body);
    }

    async fn element_type_default_is_always_active(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("element_type_defaults", json!({ "element_type": "button", "name": "Button" })).await;
        let read = server.get("/rest/v1/element_type_defaults").await;
        assert_eq!(read.row()["is_active"], true, "{}", read.body);
        let written = server
            .post("/rest/v1/element_type_defaults", json!({ "element_type": "link", "name": "Link", "is_active": false }))
            .await;
        assert_eq!(written.status, 422, "{}", written.body);
    }

    async fn element_type_is_unique(db: Database) {
        let server = AppServer::start(APP, &db).await;
        server.create("element_type_defaults", json!({ "element_type": "button", "name": "Button" })).await;
        let again = server.post("/rest/v1/element_type_defaults", json!({ "element_type": "button", "name": "Other" })).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn project_element_default_is_unique_per_project_and_element_type(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let row = json!({ "element_type": "button", "projectId": id(&p) });
        server.create("project_element_defaults", row.clone()).await;
        let again = server.post("/rest/v1/project_element_defaults", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn project_membership_is_unique_per_project_and_user(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let u = user(&server, "a@example.com").await;
        let row = json!({ "projectId": id(&p), "userId": id(&u) });
        let first = server.create("project_memberships", row.clone()).await;
        assert_eq!((&first["access_level"], &first["is_active"]), (&json!("viewer"), &json!(false)));
        let again = server.post("/rest/v1/project_memberships", row).await;
        assert_eq!(again.status, 409, "{}", again.body);
    }

    async fn presentation_access_is_unique_per_project_and_user_among_live_rows(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let u = user(&server, "a@example.com").await;
        let row = json!({ "projectId": id(&p), "userId": id(&u) });
        let grant = server.create("production_presentation_access", row.clone()).await;
        let again = server.post("/rest/v1/production_presentation_access", row.clone()).await;
        assert_eq!(again.status, 409, "{}", again.body);
        server
            .delete(&format!("/rest/v1/production_presentation_access?id=eq.{}", id(&grant)))
            .await
            .expect(200, "revoke");
        server.create("production_presentation_access", row).await;
    }

    async fn deleting_a_user_soft_deletes_their_presentation_access(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let u = user(&server, "a@example.com").await;
        server.create("production_presentation_access", json!({ "projectId": id(&p), "userId": id(&u) })).await;
        server.delete(&format!("/rest/v1/users?id=eq.{}", id(&u))).await.expect(200, "delete user");
        assert!(server.get("/rest/v1/production_presentation_access").await.rows().is_empty());
    }

    async fn transition_settings_are_unique_per_project_and_environment_among_live_rows(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let row = json!({ "projectId": id(&p), "environment": "dev" });
        let first = server.create("project_transition_settings", row.clone()).await;
        let again = server.post("/rest/v1/project_transition_settings", row.clone()).await;
        assert_eq!(again.status, 409, "{}", again.body);
        server.delete(&format!("/rest/v1/project_transition_settings?id=eq.{}", id(&first))).await.expect(200, "delete");
        server.create("project_transition_settings", row).await;
    }

    async fn transition_settings_default_to_a_700_ms_black_fade(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let row = server.create("project_transition_settings", json!({ "projectId": id(&p), "environment": "dev" })).await;
        assert_eq!(row["transition_type"], "fade");
        assert_eq!(row["duration_ms"], 700);
        assert_eq!(row["easing"], "ease-in-out");
        assert_eq!(row["overlay_color"], "#000000");
    }

    async fn ui_control_settings_are_unique_per_project_and_environment_among_live_rows(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let row = json!({ "projectId": id(&p), "environment": "stage" });
        let first = server.create("project_ui_control_settings", row.clone()).await;
        let again = server.post("/rest/v1/project_ui_control_settings", row.clone()).await;
        assert_eq!(again.status, 409, "{}", again.body);
        server.delete(&format!("/rest/v1/project_ui_control_settings?id=eq.{}", id(&first))).await.expect(200, "delete");
        server.create("project_ui_control_settings", row).await;
    }

    async fn audio_track_volume_is_between_0_and_1_with_the_documented_messages(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let low = server.post("/rest/v1/project_audio_tracks", json!({ "volume": -0.1 })).await;
        assert!(low.errors().iter().any(|(f, _, m)| f == "volume" && m == "Volume must be at least 0"), "{}", low.body);
        let high = server.post("/rest/v1/project_audio_tracks", json!({ "volume": 1.5 })).await;
        assert!(high.errors().iter().any(|(f, _, m)| f == "volume" && m == "Volume must be at most 1"), "{}", high.body);
        server.create("project_audio_tracks", json!({ "volume": 0.5 })).await;
    }

    async fn asset_variant_cdn_url_must_be_a_url_or_empty(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/asset_variants", json!({ "cdn_url": "ftp://x" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, _, m)| f == "cdn_url" && m == "CDN URL must be a valid URL"), "{}", bad.body);
        server.create("asset_variants", json!({ "cdn_url": "" })).await;
        server.create("asset_variants", json!({ "cdn_url": "https://cdn.example.com/a.webp" })).await;
    }

    async fn asset_variant_dimensions_are_not_negative(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/asset_variants", json!({ "width_px": -1 })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, r, _)| f == "width_px" && r == "min"), "{}", bad.body);
    }

    async fn asset_type_rejects_unknown_values(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/assets", json!({ "asset_type": "hologram" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let row = server.create("assets", json!({ "asset_type": "image" })).await;
        assert_eq!((&row["type"], &row["is_public"]), (&json!("general"), &json!(false)));
    }

    async fn deleting_an_asset_soft_deletes_its_variants(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let asset = server.create("assets", json!({ "asset_type": "image" })).await;
        server.create("asset_variants", json!({ "assetId": id(&asset), "variant_type": "thumbnail" })).await;
        server.delete(&format!("/rest/v1/assets?id=eq.{}", id(&asset))).await.expect(200, "delete");
        assert!(server.get("/rest/v1/asset_variants").await.rows().is_empty());
        assert_eq!(server.get("/rest/v1/asset_variants?_deleted=only").await.rows().len(), 1);
    }

    async fn access_log_records_the_time_of_access_by_default(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let row = server.create("access_logs", json!({ "environment": "admin" })).await;
        assert!(row["accessed_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{row}");
        let bad = server.post("/rest/v1/access_logs", json!({ "environment": "dev" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
    }

    async fn roles_and_custom_permissions_embed_through_their_join_tables(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let role = server.create("roles", json!({ "name": "Editor" })).await;
        let perm = server.create("permissions", json!({ "name": "READ_USERS" })).await;
        server.create("rolesPermissionsPermissions", json!({ "roleId": id(&role), "permissionId": id(&perm) })).await;
        let u = server.create("users", json!({ "email": "a@example.com", "password": "pw", "app_roleId": id(&role) })).await;
        server
            .create("usersCustom_permissionsPermissions", json!({ "userId": id(&u), "permissionId": id(&perm) }))
            .await;
        let read = server
            .get("/rest/v1/users?select=email,app_role(name,permissions(name)),custom_permissions(name)")
            .await
            .expect(200, "embed");
        assert_eq!(read.row()["app_role"]["permissions"][0]["name"], "READ_USERS", "{}", read.body);
        assert_eq!(read.row()["custom_permissions"][0]["name"], "READ_USERS", "{}", read.body);
    }

    async fn user_avatar_embeds_the_files_attached_to_the_user_as_avatar(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let u = user(&server, "a@example.com").await;
        let file = |name: &str, role: &str| {
            json!({ "name": name, "publicUrl": format!("https://cdn.example.com/{name}"),
                    "belongsTo": "users", "belongsToId": id(&u), "belongsToColumn": role })
        };
        server.create("file", file("me.png", "avatar")).await;
        server.create("file", file("cv.pdf", "resume")).await;
        let read = server.get("/rest/v1/users?select=email,avatar(name)").await.expect(200, "embed avatar");
        assert_eq!(read.row()["avatar"], json!([{ "name": "me.png" }]), "{}", read.body);
    }

    async fn file_owner_type_must_be_a_model_that_owns_files(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let bad = server
            .post("/rest/v1/file", json!({ "name": "x.png", "publicUrl": "https://c/x.png", "belongsTo": "projects", "belongsToId": id(&p) }))
            .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.errors().iter().any(|(f, _, _)| f == "belongsTo"), "{}", bad.body);
    }

    async fn file_name_and_public_url_must_not_be_empty(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let bad = server.post("/rest/v1/file", json!({ "name": "", "publicUrl": "" })).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        let fields: Vec<String> = bad.errors().into_iter().map(|(f, _, _)| f).collect();
        assert!(fields.contains(&"name".to_string()) && fields.contains(&"publicUrl".to_string()), "{}", bad.body);
    }

    async fn publishing_copies_a_projects_dev_content_to_stage(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let home = server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        server.create("tour_pages", json!({ "name": "About", "slug": "about", "projectId": id(&p), "sort_order": 1 })).await;
        server.create("project_transition_settings", json!({ "projectId": id(&p), "environment": "dev", "duration_ms": 300 })).await;
        let run = publish(&server, &p, "dev", "stage").await.expect(200, "publish");
        assert_eq!(run.body["status"], "success", "{}", run.body);
        assert_eq!(run.body["pages_copied"], 2, "{}", run.body);
        assert_eq!(run.body["transitions_copied"], 1, "{}", run.body);
        let stage = server.get("/rest/v1/tour_pages?environment=eq.stage&order=sort_order").await;
        assert_eq!(stage.rows().len(), 2, "{}", stage.body);
        assert_eq!(stage.row()["slug"], "home");
        assert_eq!(stage.row()["source_key"], id(&home), "{}", stage.body);
        assert_ne!(stage.row()["id"], home["id"]);
        let settings = server.get("/rest/v1/project_transition_settings?environment=eq.stage").await;
        assert_eq!(settings.row()["duration_ms"], 300, "{}", settings.body);
        assert_eq!(server.get("/rest/v1/tour_pages?environment=eq.dev").await.rows().len(), 2);
    }

    async fn publishing_again_updates_the_copies_instead_of_duplicating_them(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        let home = server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        publish(&server, &p, "dev", "stage").await.expect(200, "first publish");
        server.patch(&format!("/rest/v1/tour_pages?id=eq.{}", id(&home)), json!({ "name": "Welcome" })).await.expect(200, "edit");
        publish(&server, &p, "dev", "stage").await.expect(200, "second publish");
        let stage = server.get("/rest/v1/tour_pages?environment=eq.stage").await;
        assert_eq!(stage.rows().len(), 1, "{}", stage.body);
        assert_eq!(stage.row()["name"], "Welcome");
    }

    async fn publishing_from_stage_reaches_production(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        publish(&server, &p, "dev", "stage").await.expect(200, "to stage");
        publish(&server, &p, "stage", "production").await.expect(200, "to production");
        assert_eq!(server.get("/rest/v1/tour_pages?environment=eq.production").await.rows().len(), 1);
    }

    async fn publishing_skips_no_environment(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        let skipped = publish(&server, &p, "dev", "production").await;
        assert!((400..500).contains(&skipped.status), "{}", skipped.body);
        assert!(server.get("/rest/v1/tour_pages?environment=eq.production").await.rows().is_empty());
    }

    async fn a_failed_publish_changes_no_content_and_is_logged_as_failed(db: Database) {
        let server = AppServer::start(APP, &db).await;
        let p = project(&server, "p").await;
        server.create("tour_pages", json!({ "name": "Home", "slug": "home", "projectId": id(&p) })).await;
        server.create("tour_pages", json!({ "name": "About", "slug": "about", "projectId": id(&p) })).await;
        // A page made directly in stage holds the slug the copy of "home" needs.
        server
            .create("tour_pages", json!({ "name": "Manual", "slug": "home", "projectId": id(&p), "environment": "stage" }))
            .await;
        let failed = publish(&server, &p, "dev", "stage").await;
        assert_eq!(failed.status, 409, "{}", failed.body);
        let stage = server.get("/rest/v1/tour_pages?environment=eq.stage").await;
        assert_eq!(stage.rows().len(), 1, "{}", stage.body);
        assert_eq!(stage.row()["name"], "Manual");
        let log = server.get(&format!("/rest/v1/publish_events?projectId=eq.{}", id(&p))).await;
        assert_eq!(log.rows().len(), 1, "{}", log.body);
        assert_eq!(log.row()["status"], "failed", "{}", log.body);
        assert!(log.row()["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{}", log.body);
        assert!(!log.row()["finished_at"].is_null(), "{}", log.body);
    }
}

/// `POST /rest/v1/projects/publish?id=eq.X` with `{"from": .., "to": ..}`.
async fn publish(server: &AppServer, project: &Value, from: &str, to: &str) -> support::Response {
    support::server::send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/rest/v1/projects/publish?id=eq.{}", id(project)),
            )
            .json(&json!({ "from": from, "to": to })),
    )
    .await
}
