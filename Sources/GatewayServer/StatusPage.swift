import FanOut
import Foundation
import Hummingbird
import Providers

/// `GET /status` — a live page for operators: per provider its kind, p50/p95/p99 latency over the last
/// 5 minutes, error and timeout rates, circuit state and a latency chart; gateway overhead and queries/s at the
/// top. Self-contained (inline CSS and server-rendered SVG; no scripts, fonts or CDNs) and refreshes itself.
/// `GET /status.json` serves the same figures. Neither holds anything about a patient.
struct StatusRoutes: Sendable {
    let statistics: OperationalStatistics
    let providers: ProviderDirectory
    let breakers: CircuitBreakers

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/status.json") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(snapshot()))))
        }
        router.get("/status") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.html(snapshot()))))
        }
    }

    func snapshot() -> OperationalStatistics.Snapshot {
        let states = breakers.states
        return statistics.snapshot(
            providers: providers.definitions.map { definition in
                (definition.id.rawValue, definition.kind.rawValue, states[definition.id]?.name ?? "closed")
            })
    }
}

enum StatusPage {
    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    static func html(_ snapshot: OperationalStatistics.Snapshot) -> String {
        let generated = Date().formatted(.iso8601)
        var rows = ""
        for (index, provider) in snapshot.providers.enumerated() {
            let colour = colours[index % colours.count]
            rows += """
                <tr><td><span class="key" style="background:\(colour)"></span>\(escape(provider.id))</td>\
                <td>\(escape(provider.kind))</td><td class="n">\(provider.calls)</td>\
                <td class="n">\(ms(provider.p50Ms))</td><td class="n">\(ms(provider.p95Ms))</td>\
                <td class="n">\(ms(provider.p99Ms))</td>\
                <td class="n \(provider.errorRate > 0.05 ? "bad" : "")">\(percent(provider.errorRate))</td>\
                <td class="n \(provider.timeoutRate > 0.05 ? "bad" : "")">\(percent(provider.timeoutRate))</td>\
                <td class="circuit \(escape(provider.circuit))">\(escape(provider.circuit))</td></tr>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="5">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>CareGate status</title>
            <style>
            body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1b1b;background:#fafafa}
            h1{font-size:20px;margin:0 0 4px} .sub{color:#666;margin:0 0 16px}
            .tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:20px}
            .tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
            .tile b{display:block;font-size:22px} .tile span{color:#666}
            table{border-collapse:collapse;background:#fff;border:1px solid #ddd;min-width:760px}
            th,td{padding:6px 10px;border-bottom:1px solid #eee;text-align:left} th{background:#f0f0f0}
            td.n{text-align:right;font-variant-numeric:tabular-nums} .bad{color:#b00020;font-weight:600}
            .circuit.open{color:#b00020;font-weight:600} .circuit.half-open{color:#b26a00} .circuit.closed{color:#2e7d32}
            .key{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
            figure{margin:20px 0 0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;display:inline-block}
            figcaption{color:#666;margin-bottom:6px}
            </style></head><body>
            <h1>CareGate — fan-out status</h1>
            <p class="sub">Last \(snapshot.windowSeconds / 60) minutes · refreshes every 5 s · \(escape(generated))</p>
            <div class="tiles">
            <div class="tile"><b id="qps">\(String(format: "%.1f", snapshot.queriesPerSecond))</b><span>queries/s (last minute)</span></div>
            <div class="tile"><b id="overhead-p50">\(ms(snapshot.overheadP50Ms))</b><span>gateway overhead p50</span></div>
            <div class="tile"><b id="overhead-p99">\(ms(snapshot.overheadP99Ms))</b><span>gateway overhead p99</span></div>
            <div class="tile"><b>\(ms(snapshot.queryP50Ms))</b><span>query p50</span></div>
            <div class="tile"><b>\(ms(snapshot.queryP99Ms))</b><span>query p99</span></div>
            </div>
            <table id="providers"><thead><tr><th>provider</th><th>kind</th><th>calls</th><th>p50</th><th>p95</th>\
            <th>p99</th><th>errors</th><th>timeouts</th><th>circuit</th></tr></thead><tbody>
            \(rows)</tbody></table>
            \(chart(snapshot))
            </body></html>
            """
    }

    /// Each provider's p95 per 10 s slice as a line, on a log scale from 1 ms to 10 s.
    static func chart(_ snapshot: OperationalStatistics.Snapshot) -> String {
        let width = 760.0
        let height = 220.0
        let left = 48.0
        let bottom = 24.0
        let plotWidth = width - left - 10
        let plotHeight = height - bottom - 10
        func y(_ milliseconds: Double) -> Double {
            let clamped = min(max(milliseconds, 1), 10_000)
            return 10 + plotHeight * (1 - log10(clamped) / 4)
        }
        var svg = """
            <figure><figcaption>p95 latency per provider, \(snapshot.sliceSeconds) s slices, log scale</figcaption>
            <svg id="latency-chart" xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="p95 latency per provider">

            """
        for (label, value) in [("1 ms", 1.0), ("10 ms", 10.0), ("100 ms", 100.0), ("1 s", 1000.0), ("10 s", 10_000.0)] {
            let position = y(value)
            svg += """
                <line x1="\(left)" y1="\(position)" x2="\(width - 10)" y2="\(position)" stroke="#eee"/>\
                <text x="\(left - 6)" y="\(position + 4)" font-size="11" text-anchor="end" fill="#666">\(label)</text>

                """
        }
        svg += """
            <text x="\(left)" y="\(height - 6)" font-size="11" fill="#666">−\(snapshot.windowSeconds / 60) min</text>\
            <text x="\(width - 10)" y="\(height - 6)" font-size="11" text-anchor="end" fill="#666">now</text>

            """
        for (index, provider) in snapshot.providers.enumerated() {
            let count = max(provider.p95Series.count - 1, 1)
            var segments: [[String]] = [[]]
            for (slice, value) in provider.p95Series.enumerated() {
                guard let value else {
                    if !(segments.last?.isEmpty ?? true) { segments.append([]) }
                    continue
                }
                let x = left + plotWidth * Double(slice) / Double(count)
                segments[segments.count - 1].append(String(format: "%.1f,%.1f", x, y(value)))
            }
            for points in segments where !points.isEmpty {
                let colour = colours[index % colours.count]
                svg += points.count == 1
                    ? "<circle r=\"2.5\" fill=\"\(colour)\" cx=\"\(points[0].split(separator: ",")[0])\" cy=\"\(points[0].split(separator: ",")[1])\"/>\n"
                    : "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            }
        }
        return svg + "</svg></figure>"
    }

    static func ms(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value < 10 ? String(format: "%.2f ms", value) : String(format: "%.0f ms", value)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
