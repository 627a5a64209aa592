import Testing

@testable import XMLSupport

/// The tree builder's buffer keeps what is appended, in order, across growth and moves. (Values are read into
/// locals before `#expect`, which cannot take a noncopyable value apart itself.)
@Suite struct GrowableBufferTests {
    @Test func appendsAcrossGrowthInOrder() {
        var buffer = GrowableBuffer<Int32>(capacity: 1)
        for value in 0..<1_000 { buffer.append(Int32(value)) }
        let (count, all, last) = (buffer.count, elements(of: buffer), buffer.last)
        #expect(count == 1_000)
        #expect(all == (0..<1_000).map(Int32.init))
        #expect(last == 999)
        buffer[10] = -1
        let changed = buffer[10]
        #expect(changed == -1)
        let removed = buffer.removeLast()
        let remaining = buffer.count
        #expect(removed == 999)
        #expect(remaining == 999)
    }

    @Test func appendsRunsAndMovesATailOntoAnother() {
        var source = GrowableBuffer<UInt8>(capacity: 4)
        var target = GrowableBuffer<UInt8>(capacity: 2)
        let bytes = Array("hello, tree".utf8)
        bytes.withUnsafeBufferPointer { source.append(contentsOf: $0) }
        target.append(UInt8(ascii: ">"))
        source.moveTail(from: 5, to: &target)
        let (kept, moved) = (elements(of: source), elements(of: target))
        #expect(kept == Array("hello".utf8))
        #expect(moved == Array(">, tree".utf8))
        source.moveTail(from: 5, to: &target)  // nothing left to move
        let count = target.count
        #expect(count == 7)
    }

    @Test func handsItsElementsOverWithoutCopying() {
        var buffer = GrowableBuffer<Int32>(capacity: 2)
        for value in 0..<100 { buffer.append(Int32(value)) }
        let adopted = buffer.adopt()
        defer { adopted.deallocate() }
        #expect(Array(adopted) == (0..<100).map(Int32.init))
    }

    @Test func startsEmpty() {
        let buffer = GrowableBuffer<Int>(capacity: 0)
        let (empty, last, all) = (buffer.isEmpty, buffer.last, elements(of: buffer))
        #expect(empty)
        #expect(last == nil)
        #expect(all.isEmpty)
    }
}

/// The buffer's elements, read one by one.
private func elements<Element>(of buffer: borrowing GrowableBuffer<Element>) -> [Element] {
    var elements: [Element] = []
    for index in 0..<buffer.count { elements.append(buffer[index]) }
    return elements
}
