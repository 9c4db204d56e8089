use clap::Parser;
use sharebox::cli::{self, Cli, Command};
use sharebox::error::AppError;
use std::process::ExitCode;

fn main() -> ExitCode {
    sharebox::malloc::tune();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
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
