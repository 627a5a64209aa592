import ArgumentParser
import Foundation
import GatewayServer
import NIOCore
import NIOPosix
import Synchronization

@main
struct CareGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caregate",
        abstract: "A federated care-record gateway: one merged view of a patient's record from many providers.",
        subcommands: [
            DemoCommand.self, ServeCommand.self, SimulateCommand.self, ProvidersCommand.self, TokenCommand.self,
            OptOutCommand.self, AuditCommand.self, GatewayKeyCommand.self, BenchCommand.self,
        ])

    /// As ArgumentParser's own `main`, but `serve` with `executor: event-loops` first puts Swift's tasks on SwiftNIO's
    /// event loops (`TaskExecutorChoice`): that has to happen before any task runs, so before the command does anything.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if (command as? ServeCommand)?.executorChoice() == .eventLoops {
                ProcessExecutor.installEventLoops()
            }
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Writes a line to standard output at once (unbuffered), so ready lines reach a pipe or log file as they happen.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Which threads run this process's Swift tasks; see `TaskExecutorChoice`.
enum ProcessExecutor {
    private static let onEventLoops = Atomic(false)

    /// Installs SwiftNIO's event loops as Swift's global executor. Only from `main`, before any task has run.
    static func installEventLoops() {
        if NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            onEventLoops.store(true, ordering: .relaxed)
        }
    }

    /// What runs tasks now, for the start-up log: `event-loops`, or `swift` (not asked for, or not possible).
    static var current: TaskExecutorChoice { onEventLoops.load(ordering: .relaxed) ? .eventLoops : .swift }
}
