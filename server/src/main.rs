fn main() -> std::process::ExitCode {
    elexirion::cli::main()
}
