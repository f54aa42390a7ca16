//! `hotline-vectors check` compares the generated vectors with the committed
//! files; `hotline-vectors write` rewrites the files after an intended
//! protocol change.

use std::process::ExitCode;

fn main() -> ExitCode {
    let write = match std::env::args().nth(1).as_deref() {
        Some("write") => true,
        Some("check") | None => false,
        Some(other) => {
            eprintln!("unknown command {other:?}: use `check` or `write`");
            return ExitCode::from(2);
        }
    };
    let dir = hotline_vectors::vector_dir();
    let mut differ = 0;
    for (name, content) in hotline_vectors::files() {
        let path = dir.join(name);
        if write {
            if let Err(e) = std::fs::write(&path, &content) {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            println!("wrote {}", path.display());
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            eprintln!("{name} differs from the generator");
            differ += 1;
        } else {
            println!("{name}: matches");
        }
    }
    if differ == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
