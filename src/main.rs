//! berth's entry point: parse the command line, run it, exit with its code.
use clap::Parser;

fn main() {
    let args = berth::cli::Cli::parse();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => {
            let code = rt.block_on(berth::cli::run(args));
            // A blocking thread still reading standard input (a cancelled
            // `berth cp - ...`) must not keep berth from exiting.
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
            code
        }
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            1
        }
    };
    std::process::exit(code);
}
