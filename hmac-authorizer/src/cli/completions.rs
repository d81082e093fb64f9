//! `originsig completions SHELL` and `originsig man`: generated from the clap definitions
//! ([`super::command`]), so they cannot drift from the flags.

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use super::exit::{codes, help};
use super::CliError;

#[derive(Debug, Args)]
#[command(
    after_help = format!(
        "Example (bash): originsig completions bash > ~/.local/share/bash-completion/completions/originsig\n\
         Example (zsh):  originsig completions zsh > \"${{fpath[1]}}/_originsig\"\n\n{}",
        help(codes::COMPLETIONS)
    )
)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Debug, Args)]
#[command(after_help = format!(
    "Example: originsig man | man -l -\n\n{}",
    help(codes::COMPLETIONS)
))]
pub struct ManArgs {
    /// Write originsig.1 and one originsig-SUBCOMMAND.1 page per subcommand into this directory
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> Result<(), CliError> {
    // Into memory first: the generators panic when their writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut super::command(), "originsig", &mut script);
    print!("{}", String::from_utf8_lossy(&script));
    Ok(())
}

pub fn man(args: &ManArgs) -> Result<(), CliError> {
    match &args.out_dir {
        Some(dir) => {
            clap_mangen::generate_to(super::command(), dir)
                .map_err(|e| CliError::Usage(format!("--out-dir {}: {e}", dir.display())))?;
            println!("wrote the man pages to {}", dir.display());
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(super::command())
                .render(&mut page)
                .map_err(|e| CliError::Usage(format!("man page: {e}")))?;
            print!("{}", String::from_utf8_lossy(&page));
        }
    }
    Ok(())
}
