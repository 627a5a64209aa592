import CareRecords
import ProviderFormats
import XMLSupport

/// A bespoke ambulance ePCR export (synthetic: the NHS number is in the 999 range never issued) and the
/// mapping that reads it, as a provider's mapping file would declare it.
enum MappedAmbulanceExport {
    static let namespace = "urn:caregate:example:ambulance-epcr:1"
    static let namespaces = ["a": namespace]
    static let nhsNumber = "9990001235"

    static func xpath(_ text: String) throws -> XPathExpression {
        try XPathExpression(text, namespaces: namespaces)
    }

    static func mapping() throws -> XMLMapping {
        try XMLMapping(
            namespaces: namespaces,
            patientNHSNumber: xpath("/a:EPCRExport/a:Patient/a:NHSNumber"),
            root: XMLMapping.Root(localName: "EPCRExport", namespace: namespace),
            rules: [
                XMLMapping.Rule(
                    category: .encounter, records: xpath("/a:EPCRExport/a:Incident"), id: xpath("@id"),
                    code: xpath("a:Type/@code"), display: xpath("a:Type/@display"), date: xpath("a:CallReceived"),
                    status: xpath("a:Status"), summary: xpath("concat(a:Type/@display, ' — ', a:Outcome)"),
                    identifier: xpath("a:IncidentNumber"), codeSystem: Coding.System.snomedCT,
                    identifierSystem: "https://fhir.caregate.example/Id/ambulance-incident"),
                XMLMapping.Rule(
                    category: .observation, records: xpath("/a:EPCRExport/a:Incident/a:Observations/a:Vital"),
                    id: xpath("@id"), code: xpath("a:Code"), display: xpath("a:Name"), date: xpath("a:Taken"),
                    value: xpath("a:Value"), unit: xpath("a:Unit"), codeSystem: Coding.System.loinc),
                XMLMapping.Rule(
                    category: .observation, records: xpath("/a:EPCRExport/a:Incident/a:Observations/a:Score"),
                    id: xpath("@id"), code: xpath("a:Code"), display: xpath("a:Name"), date: xpath("a:Taken"),
                    value: xpath("a:Value"), codeSystem: Coding.System.snomedCT),
                XMLMapping.Rule(
                    category: .medication, records: xpath("//a:DrugsGiven/a:Drug"), id: xpath("@id"),
                    code: xpath("a:Code"), display: xpath("a:Name"), date: xpath("a:Given"), status: xpath("'completed'"),
                    dose: xpath("normalize-space(concat(a:Dose, ' ', a:Route))"), codeSystem: Coding.System.dmd),
            ])
    }

    static let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <EPCRExport xmlns="urn:caregate:example:ambulance-epcr:1" exported="2026-11-20T09:00:00Z" system="ePCR 4.2">
          <Patient>
            <NHSNumber>999 000 1235</NHSNumber>
            <Name><Given>Alex</Given><Family>Example</Family></Name>
            <BirthDate>1948-02-11</BirthDate>
          </Patient>
          <Incident id="INC-2026-0412">
            <IncidentNumber>LAS-26-118204</IncidentNumber>
            <CallReceived>2026-09-25T14:02:00+01:00</CallReceived>
            <Type code="29857009" display="Chest pain"/>
            <Status>finished</Status>
            <Outcome>Conveyed to University Hospital Lewisham ED</Outcome>
            <Crew><Clinician role="paramedic">P. Okafor</Clinician></Crew>
            <Observations>
              <Vital id="OBS-1">
                <Code>8867-4</Code><Name>Heart rate</Name>
                <Taken>2026-09-25T14:19:00+01:00</Taken><Value>112</Value><Unit>/min</Unit>
              </Vital>
              <Vital id="OBS-2">
                <Code>59408-5</Code><Name>Oxygen saturation in Arterial blood by Pulse oximetry</Name>
                <Taken>2026-09-25T14:19:00+01:00</Taken><Value>94</Value><Unit>%</Unit>
              </Vital>
              <Vital id="OBS-3">
                <Code>9279-1</Code><Name>Respiratory rate</Name>
                <Taken>2026-09-25T14:19:00+01:00</Taken><Value>24</Value><Unit>/min</Unit>
              </Vital>
              <Score id="OBS-4">
                <Code>1104051000000101</Code><Name>NEWS2 score</Name>
                <Taken>2026-09-25T14:21:00+01:00</Taken><Value>6</Value>
              </Score>
            </Observations>
            <DrugsGiven>
              <Drug id="DRUG-1">
                <Code>39695211000001102</Code><Name>Aspirin 300mg dispersible tablets</Name>
                <Given>2026-09-25T14:22:00+01:00</Given><Dose>300 mg</Dose><Route>oral</Route>
              </Drug>
              <Drug id="DRUG-2">
                <Code>36029711000001109</Code><Name>Glyceryl trinitrate 400micrograms/dose sublingual spray</Name>
                <Given>2026-09-25T14:24:00+01:00</Given><Dose>2 puffs</Dose><Route>sublingual</Route>
              </Drug>
            </DrugsGiven>
          </Incident>
          <Incident id="INC-2026-0977">
            <CallReceived>2026-11-02</CallReceived>
            <Type display="Fall"/>
            <Observations>
              <Vital>
                <Code>8867-4</Code><Name>Heart rate</Name><Taken>around teatime</Taken><Value>78</Value>
              </Vital>
              <Vital id="OBS-EMPTY">
                <Code> </Code><Name/>
              </Vital>
            </Observations>
          </Incident>
        </EPCRExport>
        """
}
