fn main() -> std::process::ExitCode {
    kbagent::signals::install();
    kbagent::run()
}
