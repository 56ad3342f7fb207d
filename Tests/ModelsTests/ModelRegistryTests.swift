import Testing
import TestSupport
@testable import Models
import NN

/// The registry itself: one entry per name, and each entry's `defaults` are what its builder uses.
@Suite struct ModelRegistryTests {
    @Test func namesAreUniqueAndInRegistryOrder() throws {
        #expect(ModelZoo.names == ["baseline", "resnet18", "resnet18-grouped", "resnet18-dws", "resnet18-lowrank", "mobilenetv2", "pneumonet"])
        #expect(Set(ModelZoo.names).count == ModelZoo.entries.count)
        #expect(try ModelZoo.entry("pneumonet").defaultChannels == 1)
        #expect(try ModelZoo.entry("resnet18-lowrank").reads == [.dropout, .rank, .upsample, .width])
        #expect(throws: EngineError.invalid("model", "unknown model 'vgg'; known: \(ModelZoo.names.joined(separator: ", "))")) {
            try ModelZoo.entry("vgg")
        }
    }

    /// Building with the declared defaults given explicitly is building with none: the entry's table of
    /// defaults is the one its builder reads (width 0.25 where the member reads it, to keep this fast).
    @Test(arguments: ModelZoo.names)
    func declaredDefaultsAreTheBuildersDefaults(_ name: String) throws {
        let entry = try ModelZoo.entry(name)
        let small = entry.reads.contains(.width) ? ModelOptions(width: 0.25) : ModelOptions()
        let c = entry.defaultChannels
        let implicit = try ModelGraph(try entry.layer(options: small), inputShape: [1, c, 32, 32])
        let explicit = try ModelGraph(try entry.layer(options: small.filled(from: entry.defaults)), inputShape: [1, c, 32, 32])
        #expect(implicit.parameters.names == explicit.parameters.names)
        #expect(implicit.parameters.names.map { implicit.parameters[$0]!.shape } == explicit.parameters.names.map { explicit.parameters[$0]!.shape })
        #expect(implicit.graph.nodes.map(\.op) == explicit.graph.nodes.map(\.op))
    }

    @Test func optionsDescribeThemselves() {
        let o = ModelOptions(width: 0.5, widths: [8, 16], blocks: 2)
        #expect(o.given == [.width, .widths, .blocks])
        #expect(o.setNames == ["width", "widths", "blocks"])
        #expect(o.description == "width 0.5, widths [8, 16], blocks 2")
        #expect(ModelOptions(blocks: 3).filled(from: ModelOptions(width: 1, blocks: 1)) == ModelOptions(width: 1, blocks: 3))
    }
}
