//! The `adue-compile` binary: parse, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    adue_compile::cli::main()
}
