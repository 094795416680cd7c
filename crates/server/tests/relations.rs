//! Relations over HTTP with the tour builder schema: many-to-many from either side,
//! the polymorphic `file` from its owner and from the file.

mod common;

use common::{send, TestServer};
use serde_json::{json, Value};
use tessera_testkit::{engine_tests, Database};

async fn create(server: &TestServer, model: &str, body: Value) -> Value {
    let (status, _, rows) = send(
        server
            .post(&format!("/rest/v1/{model}"))
            .header("prefer", "return=representation")
            .json(&body),
    )
    .await;
    assert_eq!(status, 201, "create {model}: {rows}");
    rows
}

engine_tests! {
    /// roles.permissions (join table rolesPermissionsPermissions) embeds from both sides.
    async fn many_to_many_embeds_from_either_side(db: Database) {
        let server = TestServer::start(&db).await;
        let roles = create(&server, "roles", json!([{"name": "admin"}, {"name": "guest"}])).await;
        let perms = create(&server, "permissions", json!([{"name": "READ_USERS"}, {"name": "CREATE_ASSETS"}])).await;
        let (status, _, body) = send(server.post("/rest/v1/rolesPermissionsPermissions").json(&json!([
            {"roleId": roles[0]["id"], "permissionId": perms[0]["id"]},
            {"roleId": roles[0]["id"], "permissionId": perms[1]["id"]},
            {"roleId": roles[1]["id"], "permissionId": perms[0]["id"]}
        ]))).await;
        assert_eq!(status, 201, "{body}");
        let (status, _, rows) = send(server.get("/rest/v1/roles?select=name,permissions(name)&order=name&permissions.order=name")).await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows, json!([
            {"name": "admin", "permissions": [{"name": "CREATE_ASSETS"}, {"name": "READ_USERS"}]},
            {"name": "guest", "permissions": [{"name": "READ_USERS"}]}
        ]));
        // The other side declares it as `roles_permissions`; it embeds by the model's name too.
        let (status, _, rows) = send(server.get("/rest/v1/permissions?select=name,roles(name)&order=name&roles.order=name")).await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows, json!([
            {"name": "CREATE_ASSETS", "roles": [{"name": "admin"}]},
            {"name": "READ_USERS", "roles": [{"name": "admin"}, {"name": "guest"}]}
        ]));
        // !inner from the other side, and a deleted role disappears from it.
        let (_, _, rows) = send(server.get("/rest/v1/permissions?select=name,roles!inner(name)&roles.name=eq.guest")).await;
        assert_eq!(rows, json!([{"name": "READ_USERS", "roles": [{"name": "guest"}]}]));
        let (status, _, _) = send(server.delete(&format!("/rest/v1/roles?id=eq.{}", roles[1]["id"].as_str().unwrap_or("")))).await;
        assert_eq!(status, 204);
        let (_, _, rows) = send(server.get("/rest/v1/permissions?select=name,roles(name)&name=eq.READ_USERS")).await;
        assert_eq!(rows, json!([{"name": "READ_USERS", "roles": [{"name": "admin"}]}]));
    }

    /// users?select=*,avatar(*) and file?select=*,owner(*); the type and id are checked.
    async fn polymorphic_file_from_both_sides(db: Database) {
        let server = TestServer::start(&db).await;
        let user = create(&server, "users", json!({"email": "ann@example.com", "password": "a-password", "firstName": "Ann"})).await;
        let id = user[0]["id"].clone();
        create(&server, "file", json!([
            {"name": "ann.png", "publicUrl": "https://cdn.example.com/ann.png", "belongsTo": "users", "belongsToId": id, "belongsToColumn": "avatar"},
            {"name": "cv.pdf", "publicUrl": "https://cdn.example.com/cv.pdf", "belongsTo": "users", "belongsToId": id, "belongsToColumn": "documents"}
        ])).await;
        let (status, _, rows) = send(server.get("/rest/v1/users?select=firstName,avatar(name)")).await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows, json!([{"firstName": "Ann", "avatar": [{"name": "ann.png"}]}]));
        let (status, _, rows) = send(server.get("/rest/v1/file?select=name,owner(email,firstName)&order=name")).await;
        assert_eq!(status, 200, "{rows}");
        assert_eq!(rows, json!([
            {"name": "ann.png", "owner": {"email": "ann@example.com", "firstName": "Ann"}},
            {"name": "cv.pdf", "owner": {"email": "ann@example.com", "firstName": "Ann"}}
        ]));
        let (status, _, err) = send(server.post("/rest/v1/file").json(&json!({
            "name": "x", "publicUrl": "https://cdn.example.com/x", "belongsTo": "projects", "belongsToId": id
        }))).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["errors"][0]["rule"], json!("enum"));
        let (status, _, err) = send(server.post("/rest/v1/file").json(&json!({
            "name": "x", "publicUrl": "https://cdn.example.com/x", "belongsTo": "users", "belongsToId": uuid::Uuid::new_v4()
        }))).await;
        assert_eq!((status, err["code"].as_str()), (409, Some("23503")), "{err}");
    }
}
