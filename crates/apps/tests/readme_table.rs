//! The apps table of the root README stays true to the schemas and the test files.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(app, models, tests)` for each row of the README's apps table.
fn table() -> Vec<(String, usize, usize)> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    readme
        .lines()
        .filter(|line| line.starts_with("| [") && line.contains("](apps/"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1]
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .to_string();
            let number = |cell: &str| {
                cell.parse::<usize>()
                    .unwrap_or_else(|_| panic!("not a number: {line}"))
            };
            (name, number(cells[3]), number(cells[4]))
        })
        .collect()
}

#[test]
fn the_readme_lists_every_bundled_app_once() {
    let mut listed: Vec<String> = table().into_iter().map(|(name, _, _)| name).collect();
    listed.sort();
    let mut bundled = tessera_apps::names();
    bundled.sort();
    assert_eq!(listed, bundled);
}

#[test]
fn the_readme_model_counts_match_the_schemas() {
    for (name, models, _) in table() {
        let app = tessera_apps::find(&name).expect("a bundled app");
        let schema = app.checked().expect("checks").schema;
        let declared = schema
            .models
            .iter()
            .filter(|m| m.kind == tessera_schema::ir::ModelKind::Declared)
            .count();
        assert_eq!(models, declared, "README.md model count of {name}");
    }
}

#[test]
fn the_readme_test_counts_match_the_test_files() {
    for (name, _, tests) in table() {
        let path = root().join(format!("crates/apps/tests/{}.rs", name.replace('-', "_")));
        let source = std::fs::read_to_string(&path).expect("the app's test file");
        let count = source
            .lines()
            .filter(|l| l.starts_with("    async fn "))
            .count()
            + shared_tests(&source);
        assert_eq!(tests, count, "README.md test count of {name}");
    }
}

/// The tests an app's file gets from the macros of `tests/access/` it invokes
/// (`staff_access_tests!();`): those written in each macro's body.
fn shared_tests(source: &str) -> usize {
    let dir = root().join("crates/apps/tests/access");
    let shared: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/access")
        .map(|entry| std::fs::read_to_string(entry.expect("an entry").path()).expect("readable"))
        .collect();
    source
        .lines()
        .filter_map(|l| l.trim().strip_suffix("!();"))
        .map(|name| {
            let definition = format!("macro_rules! {name} {{");
            let body = shared
                .iter()
                .find_map(|text| text.split_once(&definition).map(|(_, body)| body))
                .unwrap_or_else(|| panic!("no macro `{name}` in tests/access"));
            // The macro ends at the first line that closes it at the top level.
            body.lines()
                .take_while(|l| *l != "}")
                .filter(|l| l.trim_start().starts_with("async fn "))
                .count()
        })
        .sum()
}
