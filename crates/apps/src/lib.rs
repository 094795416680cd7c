//! The bundled applications: each seed system's schema, embedded in the binary so
//! `tessera serve --app NAME` runs it with no files on disk. The sources live in `apps/NAME/`.

/// One bundled application.
#[derive(Debug, Clone, Copy)]
pub struct App {
    /// The folder name under `apps/`, used with `--app`.
    pub name: &'static str,
    /// One line saying what the system is.
    pub summary: &'static str,
    /// The schema text.
    pub schema: &'static str,
}

macro_rules! app {
    ($name:literal, $summary:literal) => {
        App {
            name: $name,
            summary: $summary,
            schema: include_str!(concat!("../../../apps/", $name, "/schema.tsr")),
        }
    };
}

/// Every bundled application, in a stable order.
pub const APPS: &[App] = &[
    app!(
        "tour-builder",
        "Tour Builder Platform: virtual tours with dev/stage/production content"
    ),
    app!(
        "facekom-vuer",
        "FaceKom vuer_oss: video identification, workflows, media and audit"
    ),
    app!(
        "facekom-esign",
        "FaceKom esign_oss: e-signature of contracts and offers"
    ),
    app!(
        "securecam",
        "SecureCam: home cameras, streams, recordings and notifications"
    ),
    app!(
        "opentalk",
        "OpenTalk controller: video conferencing rooms, events, invites and jobs"
    ),
    app!(
        "multitenant",
        "Multi-tenant SaaS: tenants, users, roles, OAuth and security audit"
    ),
];

/// The bundled application called `name`.
pub fn find(name: &str) -> Option<&'static App> {
    APPS.iter().find(|app| app.name == name)
}

/// The names of all bundled applications, for messages.
pub fn names() -> Vec<&'static str> {
    APPS.iter().map(|app| app.name).collect()
}

impl App {
    /// The path the schema is reported under in diagnostics.
    pub fn schema_path(&self) -> String {
        format!("apps/{}/schema.tsr", self.name)
    }

    /// The checked schema. Bundled schemas are checked by the test suite, so this only fails
    /// if a broken schema was embedded.
    pub fn checked(&self) -> Result<tessera_schema::Checked, tessera_schema::Diagnostics> {
        tessera_schema::check_source(&self.schema_path(), self.schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_folder_is_bundled() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../apps");
        let mut folders: Vec<String> = std::fs::read_dir(root)
            .expect("apps folder")
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.path().join("schema.tsr").exists())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let mut bundled = names();
        bundled.sort();
        assert_eq!(folders, bundled);
    }

    #[test]
    fn every_bundled_schema_checks_without_errors() {
        for app in APPS {
            if let Err(diagnostics) = app.checked() {
                panic!(
                    "{} does not check:\n{}",
                    app.name,
                    diagnostics.render(false)
                );
            }
        }
    }

    #[test]
    fn find_returns_the_named_app_and_none_for_unknown_names() {
        assert_eq!(find("securecam").map(|a| a.name), Some("securecam"));
        assert!(find("nope").is_none());
    }
}
