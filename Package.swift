// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CareGate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "caregate", targets: ["caregate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // libxml2 from the system (Debian: libxml2-dev). See shim.h for the ICU clash with Foundation.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),

        // The normalised, FHIR-aligned domain model. Foundation only.
        .target(name: "CareRecords"),

        // Safe XML parsing (no network, no DTD, no entities, size and depth caps), and XSD validation.
        .target(name: "XMLSupport", dependencies: ["CLibXML2"]),

        // Pure decoders: provider bytes in, CareRecords entries out.
        .target(name: "ProviderFormats", dependencies: ["CareRecords", "XMLSupport"]),

        // Provider definitions, the registry, and the HTTP transport (the only AsyncHTTPClient import).
        .target(name: "Providers", dependencies: [
            "CareRecords", "ProviderFormats", "XMLSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            // Signs the on-behalf-of tokens sent to another CareGate gateway (federation).
            .product(name: "JWTKit", package: "jwt-kit"),
        ]),

        // Deadline-bound concurrent fan-out to the providers.
        .target(name: "FanOut", dependencies: [
            "CareRecords", "Providers",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // The merged record as FHIR R4 resources and Bundles, JSON and XML. Pure transformation.
        .target(name: "FHIRExport", dependencies: ["CareRecords", "XMLSupport"]),

        // De-duplication and merge across providers. No networking.
        .target(name: "RecordMerge", dependencies: ["CareRecords"]),

        // Access decisions, bearer tokens, the role policy, the opt-out registry and the audit trail; stores behind
        // protocols (SQLite embedded default, PostgreSQL for several replicas). No HTTP server types.
        .target(name: "Policy", dependencies: [
            "CareRecords",
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "SQLiteNIO", package: "sqlite-nio"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),

        // Six simulated providers over a deterministic synthetic population, with injectable faults.
        .target(name: "ProviderSimulator", dependencies: [
            "CareRecords", "XMLSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The Hummingbird edge: routes, error mapping; buildApplication is the composition root.
        .target(name: "GatewayServer", dependencies: [
            "CareRecords", "Providers", "FanOut", "RecordMerge", "Policy", "FHIRExport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "caregate", dependencies: [
            "GatewayServer", "ProviderSimulator", "Providers", "CareRecords", "XMLSupport", "Policy", "CLibXML2",
            "ProviderFormats", "RecordMerge",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Test helpers shared by the test targets: fake providers.
        .target(name: "CareGateTesting", dependencies: [
            "CareRecords", "Providers", "XMLSupport",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Tests/CareGateTesting"),

        // Seeded random mutation for the decoders' fuzz tests (no dependencies).
        .target(name: "CareGateFuzzing", path: "Tests/CareGateFuzzing"),

        .testTarget(name: "CareRecordsTests", dependencies: ["CareRecords"]),
        .testTarget(name: "XMLSupportTests", dependencies: ["XMLSupport"]),
        .testTarget(
            name: "ProviderFormatsTests",
            dependencies: [
                "ProviderFormats", "CareRecords", "XMLSupport", "CareGateFuzzing", "ProviderSimulator", "Providers",
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "FHIRExportTests", dependencies: ["FHIRExport", "CareRecords", "XMLSupport", "CareGateTesting"]),
        .testTarget(name: "RecordMergeTests", dependencies: ["RecordMerge", "CareRecords"]),
        .testTarget(name: "FanOutTests", dependencies: ["FanOut", "Providers", "CareRecords", "CareGateTesting"]),
        .testTarget(name: "ProvidersTests", dependencies: [
            "Providers", "CareRecords", "CareGateTesting", "ProviderSimulator",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "JWTKit", package: "jwt-kit"),
        ]),
        .testTarget(name: "PolicyTests", dependencies: [
            "Policy", "CareRecords", "CareGateTesting",
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
            .product(name: "SQLiteNIO", package: "sqlite-nio"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ProviderSimulatorTests", dependencies: ["ProviderSimulator", "CareRecords", "XMLSupport", "CLibXML2"]),
        // The shipped binary itself: `caregate serve` started as a process, as an operator or container runs it.
        .testTarget(name: "CareGateCommandTests", dependencies: [
            "caregate", "CareRecords", "GatewayServer", "CareGateTesting", "Policy", "ProviderSimulator", "Providers",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GatewayServerTests", dependencies: [
            "GatewayServer", "ProviderSimulator", "Providers", "CareRecords", "CareGateTesting", "Policy", "XMLSupport",
            "FHIRExport", "RecordMerge", "ProviderFormats",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
    ]
)
