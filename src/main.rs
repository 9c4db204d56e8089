use clap::Parser;
use sharebox::cli::{self, Cli, Command};
use sharebox::error::AppError;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    sharebox::malloc::tune();
    let cli = Cli::parse();
    // Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org).
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_ansi(color)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match &cli.command {
        None | Some(Command::Serve) => {
            actix_web::rt::System::new().block_on(cli::serve(cli.settings.clone()))
        }
        Some(command) => cli::run_admin(&cli.settings, command).map(|out| println!("{out}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The operator runs this: say the cause, internal or not.
            match e {
                AppError::Internal(cause) => eprintln!("error: {cause}"),
                other => eprintln!("error: {other}"),
            }
            ExitCode::FAILURE
        }
    }
}
