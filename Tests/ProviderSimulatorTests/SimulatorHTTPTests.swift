import CareRecords
import Foundation
import ProviderSimulator
import Testing
import XMLSupport

/// The simulator over real sockets on ephemeral loopback ports, seen by a raw client exactly as a gateway would see it.
@Suite("Simulated providers over HTTP", .timeLimit(.minutes(1)))
struct SimulatorHTTPTests {
    let demo = Shared.population.demoPatient

    private func everything(_ nhs: String) -> String { "/fhir/Patient/\(nhs)/$everything" }

    /// The demo patient's record at an endpoint, whatever its format.
    private func record(_ endpoint: SimulatedEndpoint) -> String { endpoint.definition.path(for: demo.nhsNumber) }

    @Test("each provider answers at its own path with 200, its format's content type, and the same bytes as body(for:patient:)")
    func servesEveryFormat() async throws {
        try await withSimulator { simulator, endpoints in
            #expect(endpoints.map(\.id) == SimulatedProviderID.all)
            #expect(Set(endpoints.map(\.port)).count == 6 && endpoints.allSatisfy { $0.port > 0 })
            #expect(endpoints[id: SimulatedProviderID.mhTrust].port == endpoints[id: SimulatedProviderID.mhTrustDocuments].port)
            for endpoint in endpoints {
                #expect(endpoint.urlTemplate == "http://127.0.0.1:\(endpoint.port)\(endpoint.definition.pathTemplate)")
                #expect(endpoint.url(for: demo.nhsNumber) == "http://127.0.0.1:\(endpoint.port)\(record(endpoint))")
                let response = try await fetch(port: endpoint.port, record(endpoint))
                #expect(response.status == 200, "\(endpoint.id)")
                #expect(response.headers["content-type"] == endpoint.definition.format.contentType, "\(endpoint.id)")
                #expect(response.body == (try simulator.served(endpoint.id, demo.nhsNumber)), "\(endpoint.id)")
            }
            let contentTypes = Dictionary(endpoints.map { ($0.id, $0.definition.format.contentType) }, uniquingKeysWith: { a, _ in a })
            #expect(contentTypes[SimulatedProviderID.gp] == "application/fhir+xml; charset=utf-8")
            #expect(contentTypes[SimulatedProviderID.nhs111] == "application/xml; charset=utf-8")
            #expect(contentTypes[SimulatedProviderID.careHome] == "application/xml; charset=utf-8")
        }
    }

    @Test("the trust's two feeds share a port: the path chooses the feed, and each feed has its own fault")
    func sharedPort() async throws {
        try await withSimulator { simulator, endpoints in
            let port = endpoints[id: SimulatedProviderID.mhTrust].port
            let fhir = try await fetch(port: port, everything(demo.nhsNumber.digits))
            let cda = try await fetch(port: port, "/cda/Patient/\(demo.nhsNumber.digits)/documents")
            #expect(fhir.status == 200 && cda.status == 200)
            #expect(try SafeXMLParser.parse(fhir.body).name == "Bundle")
            #expect(try SafeXMLParser.parse(cda.body).name == "Documents")
            #expect(cda.headers["content-type"] == "application/xml; charset=utf-8")

            try simulator.setFault(.httpError(status: 503), for: SimulatedProviderID.mhTrustDocuments)
            #expect(try await fetch(port: port, "/cda/Patient/\(demo.nhsNumber.digits)/documents").status == 503)
            #expect(try await fetch(port: port, everything(demo.nhsNumber.digits)).status == 200)
        }
    }

    @Test("a percent-encoded $ (%24everything) is the same operation")
    func percentEncodedDollar() async throws {
        try await withSimulator { simulator, endpoints in
            let gp = endpoints[id: SimulatedProviderID.gp]
            let response = try await fetch(port: gp.port, "/fhir/Patient/\(demo.nhsNumber.digits)/%24everything?_count=50")
            #expect(response.status == 200)
            #expect(response.body == simulator.bundle(for: gp.id, patient: demo.nhsNumber))
        }
    }

    @Test("an invalid NHS number gets 400 that does not echo it, other paths 404: an OperationOutcome from FHIR, plain text from the rest")
    func errors() async throws {
        try await withSimulator { _, endpoints in
            let port = endpoints[id: SimulatedProviderID.mhTrust].port
            let bad = try await fetch(port: port, everything("1234567890"))
            #expect(bad.status == 400)
            let outcome = try SafeXMLParser.parse(bad.body)
            #expect(outcome.name == "OperationOutcome")
            #expect(outcome.value("issue", "code") == "invalid")
            #expect(!String(decoding: bad.body, as: UTF8.self).contains("1234567890"))

            let notFound = try await fetch(port: port, "/fhir/Patient/\(demo.nhsNumber.digits)")
            #expect(notFound.status == 404)
            #expect(try SafeXMLParser.parse(notFound.body).name == "OperationOutcome")
            #expect(try await fetch(port: port, "/metrics").status == 404)
            #expect(try await fetch(port: port, "/cda/Patient/1234567890/documents").status == 400)

            let ambulance = endpoints[id: SimulatedProviderID.ambulance].port
            let badBespoke = try await fetch(port: ambulance, "/epcr/patients/1234567890")
            #expect(badBespoke.status == 400)
            #expect(badBespoke.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(!String(decoding: badBespoke.body, as: UTF8.self).contains("1234567890"))
            let wrongPath = try await fetch(port: ambulance, everything(demo.nhsNumber.digits))
            #expect(wrongPath.status == 404)
            #expect(String(decoding: wrongPath.body, as: UTF8.self).contains("/epcr/patients/{nhs}"))
        }
    }

    @Test("a patient the provider does not know gets an empty answer in its format")
    func unknownPatient() async throws {
        try await withSimulator { _, endpoints in
            let gp = try await fetch(port: endpoints[id: SimulatedProviderID.gp].port, everything(Shared.strangerNHSNumber.digits))
            #expect(gp.status == 200)
            let parsed = try ParsedBundle(gp.body)
            #expect(parsed.total == 0 && parsed.resources.isEmpty)

            let cardiac = endpoints[id: SimulatedProviderID.cardiac]
            let summary = try await fetch(port: cardiac.port, cardiac.definition.path(for: Shared.strangerNHSNumber))
            #expect(summary.status == 200)
            let root = try SafeXMLParser.parse(summary.body)
            #expect(root.name == "MonitoringSummary" && root.children.map(\.name) == ["Service"])

            let nhs111 = endpoints[id: SimulatedProviderID.nhs111]
            let documents = try await fetch(port: nhs111.port, nhs111.definition.path(for: Shared.strangerNHSNumber))
            #expect(documents.status == 200)
            #expect(try SafeXMLParser.parse(documents.body).children.isEmpty)
        }
    }

    @Test("keep-alive: several requests are answered on one connection")
    func keepAlive() async throws {
        try await withSimulator { simulator, endpoints in
            let gp = endpoints[id: SimulatedProviderID.gp]
            let target = everything(demo.nhsNumber.digits)
            let bodies = try await offloaded {
                let connection = try RawHTTPConnection(port: gp.port)
                var bodies: [[UInt8]] = []
                for _ in 0..<3 {
                    try connection.get(target)
                    let response = try connection.readResponse()
                    #expect(response.status == 200)
                    #expect(response.headers["connection"] != "close")
                    bodies.append(response.body)
                }
                return bodies
            }
            #expect(bodies.count == 3)
            #expect(bodies.allSatisfy { $0 == simulator.bundle(for: gp.id, patient: demo.nhsNumber) })
        }
    }

    @Test("a fixed delay holds the answer back at least that long; clearing it restores speed")
    func fixedDelay() async throws {
        try await withSimulator { simulator, endpoints in
            let ambulance = endpoints[id: SimulatedProviderID.ambulance]
            let port = ambulance.port
            try simulator.setFault(.fixedDelay(milliseconds: 500), for: SimulatedProviderID.ambulance)
            #expect(simulator.fault(for: SimulatedProviderID.ambulance) == .fixedDelay(milliseconds: 500))
            let clock = ContinuousClock()
            var started = clock.now
            let delayed = try await fetch(port: port, record(ambulance))
            let slow = clock.now - started
            #expect(delayed.status == 200)
            #expect(slow >= .milliseconds(500))

            try simulator.setFault(.none, for: SimulatedProviderID.ambulance)
            started = clock.now
            let prompt = try await fetch(port: port, record(ambulance))
            let fast = clock.now - started
            #expect(prompt.status == 200)
            #expect(fast < .milliseconds(500))
        }
    }

    @Test("a random delay falls within its range")
    func randomDelay() async throws {
        try await withSimulator { simulator, endpoints in
            let nhs111 = endpoints[id: SimulatedProviderID.nhs111]
            let port = nhs111.port
            try simulator.setFault(.randomDelay(minMilliseconds: 120, maxMilliseconds: 200), for: SimulatedProviderID.nhs111)
            let clock = ContinuousClock()
            for _ in 0..<3 {
                let started = clock.now
                let response = try await fetch(port: port, record(nhs111))
                let elapsed = clock.now - started
                #expect(response.status == 200)
                #expect(elapsed >= .milliseconds(120))
                #expect(elapsed < .milliseconds(1500))
            }
        }
    }

    @Test("http-500 gives a 500 with a short OperationOutcome; other providers are unaffected")
    func httpError() async throws {
        try await withSimulator { simulator, endpoints in
            try simulator.setFault(.httpError(status: 500), for: SimulatedProviderID.mhTrust)
            let failed = try await fetch(port: endpoints[id: SimulatedProviderID.mhTrust].port, everything(demo.nhsNumber.digits))
            #expect(failed.status == 500)
            #expect(failed.body.count < 1000)
            #expect(try SafeXMLParser.parse(failed.body).value("issue", "code") == "exception")
            let other = try await fetch(port: endpoints[id: SimulatedProviderID.gp].port, everything(demo.nhsNumber.digits))
            #expect(other.status == 200)

            let careHome = endpoints[id: SimulatedProviderID.careHome]
            try simulator.setFault(.httpError(status: 502), for: careHome.id)
            let bespoke = try await fetch(port: careHome.port, record(careHome))
            #expect(bespoke.status == 502)
            #expect(bespoke.headers["content-type"] == "text/plain; charset=utf-8")
        }
    }

    @Test("malformed gives a 200 whose body is not well-formed XML")
    func malformed() async throws {
        try await withSimulator { simulator, endpoints in
            let gp = endpoints[id: SimulatedProviderID.gp]
            try simulator.setFault(.malformedXML, for: gp.id)
            let response = try await fetch(port: gp.port, everything(demo.nhsNumber.digits))
            #expect(response.status == 200)
            #expect(!response.body.isEmpty)
            #expect(String(decoding: response.body, as: UTF8.self).hasPrefix("<?xml"))
            #expect(throws: XMLParseError.self) { try SafeXMLParser.parse(response.body) }
        }
    }

    @Test("reset closes the connection with a TCP reset and no response")
    func reset() async throws {
        try await withSimulator { simulator, endpoints in
            let careHome = endpoints[id: SimulatedProviderID.careHome]
            try simulator.setFault(.connectionReset, for: careHome.id)
            let target = record(careHome)
            let outcome: Result<[UInt8]?, RawHTTPConnection.Failure> = try await offloaded {
                let connection = try RawHTTPConnection(port: careHome.port)
                try connection.get(target)
                do {
                    return .success(try connection.readChunk())
                } catch let failure as RawHTTPConnection.Failure {
                    return .failure(failure)
                }
            }
            #expect(throws: RawHTTPConnection.Failure.connectionReset) { try outcome.get() }
        }
    }

    @Test("hang sends nothing, and shutdown still completes promptly and closes the held connection")
    func hang() async throws {
        let simulator = ProviderSimulator(population: Shared.population)
        let endpoints = try await simulator.start()
        let cardiac = endpoints[id: SimulatedProviderID.cardiac]
        try simulator.setFault(.hang, for: cardiac.id)
        let target = record(cardiac)
        let connection = try await offloaded { try RawHTTPConnection(port: cardiac.port, timeout: .milliseconds(300)) }
        let waited: Result<[UInt8]?, RawHTTPConnection.Failure> = try await offloaded {
            try connection.get(target)
            do { return .success(try connection.readChunk()) } catch let failure as RawHTTPConnection.Failure {
                return .failure(failure)
            }
        }
        #expect(throws: RawHTTPConnection.Failure.timedOut) { try waited.get() }

        let clock = ContinuousClock()
        let started = clock.now
        try await simulator.shutdown()
        let stopping = clock.now - started
        #expect(stopping < .seconds(2))
        #expect(simulator.endpoints.isEmpty)

        // The held connection is closed, not left dangling: end of stream or a reset, never a response.
        let afterwards: Result<[UInt8]?, RawHTTPConnection.Failure> = try await offloaded {
            do { return .success(try connection.readChunk()) } catch let failure as RawHTTPConnection.Failure {
                return .failure(failure)
            }
        }
        switch afterwards {
        case .success(let chunk): #expect(chunk == nil)
        case .failure(let failure): #expect(failure == .connectionReset)
        }
    }

    @Test("faults apply per provider, can be set for all at once, and unknown providers are refused")
    func faultControl() async throws {
        let simulator = ProviderSimulator(population: Shared.population)
        simulator.setFaultForAll(.malformedXML)
        #expect(SimulatedProviderID.all.allSatisfy { simulator.fault(for: $0) == .malformedXML })
        #expect(throws: ProviderSimulatorError.unknownProvider("nowhere")) {
            try simulator.setFault(.hang, for: "nowhere")
        }
        simulator.setFaultForAll(.none)
        #expect(simulator.fault(for: SimulatedProviderID.gp) == SimulatedFault.none)
    }

    @Test("start twice is refused; after shutdown the simulator starts again; the generated YAML names the bound port")
    func lifecycle() async throws {
        let simulator = ProviderSimulator(population: Shared.population)
        let first = try await simulator.start()
        await #expect(throws: ProviderSimulatorError.alreadyRunning) { _ = try await simulator.start() }
        #expect(simulator.endpoints == first)
        let gp = first[id: SimulatedProviderID.gp]
        #expect(gp.providerDefinitionYAML().contains("url: \"http://127.0.0.1:\(gp.port)/fhir/Patient/{nhs}/$everything\""))
        let documents = first[id: SimulatedProviderID.mhTrustDocuments]
        #expect(documents.port == first[id: SimulatedProviderID.mhTrust].port)
        #expect(documents.providerDefinitionYAML().contains("url: \"http://127.0.0.1:\(documents.port)/cda/Patient/{nhs}/documents\""))
        try await simulator.shutdown()
        try await simulator.shutdown()  // harmless when already stopped

        let second = try await simulator.start()
        let response = try await fetch(port: second[id: SimulatedProviderID.gp].port, everything(demo.nhsNumber.digits))
        #expect(response.status == 200)
        try await simulator.shutdown()
    }

    @Test("a port that is already taken fails start and leaves nothing listening")
    func bindFailure() async throws {
        try await withSimulator { _, endpoints in
            let taken = endpoints[id: SimulatedProviderID.gp].port
            let second = ProviderSimulator(population: Shared.population)
            await #expect(throws: (any Error).self) {
                _ = try await second.start(ports: [SimulatedProviderID.careHome: taken])
            }
            #expect(second.endpoints.isEmpty)
            try await second.shutdown()
        }
    }
}
