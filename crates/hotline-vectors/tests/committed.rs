//! The committed vectors are exactly what the generator produces.

#[test]
fn vectors_match_committed_files() {
    let dir = hotline_vectors::vector_dir();
    let write = std::env::var_os("HOTLINE_WRITE_VECTORS").is_some();
    for (name, content) in hotline_vectors::files() {
        let path = dir.join(name);
        if write {
            std::fs::write(&path, &content).unwrap();
        }
        let committed =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == content,
            "{name} differs from the generator: a protocol change needs SPEC.md and the vectors updated together"
        );
    }
}

#[test]
fn scripted_generation_is_deterministic() {
    assert_eq!(
        hotline_vectors::conversation(),
        hotline_vectors::conversation()
    );
}
