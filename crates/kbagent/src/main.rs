fn main() -> std::process::ExitCode {
    kbagent::run()
}
