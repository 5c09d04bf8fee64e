//! berth's entry point: parse the command line, run it, exit with its code.
use clap::Parser;

fn main() {
    let args = berth::cli::Cli::parse();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(berth::cli::run(args)),
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}
