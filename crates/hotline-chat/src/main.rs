//! `hotline-chat`: chat with a business over a Hotline relay from a
//! terminal (see the library's documentation for the commands).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = hotline_chat::Args::parse();
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    match hotline_chat::run(args, input, tokio::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotline-chat: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
