#[allow(clippy::expect_used, reason = "a build script reports failure by panicking")]
fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .emit_rerun_directives(true)
        .process()
        .expect("the Ward grammar compiles");
}
