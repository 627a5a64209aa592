/// A growable run of plain values for the tree builder's hot path, which appends several for every element
/// of every document a provider sends.
///
/// A Swift `Array` append asks the runtime whether the storage is uniquely referenced each time; this buffer
/// belongs to one builder (it cannot be copied), so it never needs to ask. Indices are still checked.
/// Meant for trivial types (integers and structs of them): growing moves them with `memcpy`.
struct GrowableBuffer<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    /// An empty buffer that allocates nothing until its first append (for a run most parses leave empty).
    init() {
        capacity = 0
        // Never read or freed: with no capacity there is nothing there (see `deinit`, `grow` and `adopt`).
        base = UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }

    deinit {
        if capacity > 0 {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    var isEmpty: Bool { count == 0 }

    var last: Element? { count == 0 ? nil : base[count - 1] }

    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "GrowableBuffer index out of range")
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count, "GrowableBuffer index out of range")
            base[index] = newValue
        }
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        if count == capacity { grow(toAtLeast: count + 1) }
        (base + count).initialize(to: element)
        count += 1
    }

    mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard let source = elements.baseAddress, !elements.isEmpty else { return }
        if count + elements.count > capacity { grow(toAtLeast: count + elements.count) }
        (base + count).initialize(from: source, count: elements.count)
        count += elements.count
    }

    mutating func removeLast() -> Element {
        precondition(count > 0, "removeLast from an empty GrowableBuffer")
        count -= 1
        return (base + count).move()
    }

    /// Moves the elements from `start` to the end onto the end of `other`, leaving `start` elements here.
    mutating func moveTail(from start: Int, to other: inout GrowableBuffer<Element>) {
        precondition(start >= 0 && start <= count, "GrowableBuffer index out of range")
        let moved = count - start
        guard moved > 0 else { return }
        if other.count + moved > other.capacity { other.grow(toAtLeast: other.count + moved) }
        (other.base + other.count).moveInitialize(from: base + start, count: moved)
        other.count += moved
        count = start
    }

    /// The elements, handed over with their memory as they are (no copy): the caller owns it from here on
    /// and must deallocate it (see `TreeBuffer`).
    consuming func adopt() -> UnsafeMutableBufferPointer<Element> {
        let elements = UnsafeMutableBufferPointer(start: capacity > 0 ? base : nil, count: count)
        discard self
        return elements
    }

    @inline(never)
    private mutating func grow(toAtLeast minimum: Int) {
        let newCapacity = max(minimum, capacity * 2, 16)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if capacity > 0 {
            newBase.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }
}
