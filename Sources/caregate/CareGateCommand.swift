import ArgumentParser
import Foundation

@main
struct CareGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caregate",
        abstract: "A federated care-record gateway: one merged view of a patient's record from many providers.",
        subcommands: [
            DemoCommand.self, ServeCommand.self, SimulateCommand.self, ProvidersCommand.self, TokenCommand.self,
            OptOutCommand.self, AuditCommand.self, BenchCommand.self,
        ])
}

/// Writes a line to standard output at once (unbuffered), so ready lines reach a pipe or log file as they happen.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
