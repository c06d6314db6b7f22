//===--- Einsum.swift - general einsum through batched products ----------===//
//
//   "bij,bjk->bik", "...ij,...jk->...ik", "ii->i", "ij->", "i,j->ij", "bhqd,bhkd->bhqk"
//
// Each operand is first viewed over its distinct labels (a repeated label takes a
// diagonal: its strides add; a size-1 axis broadcast by "..." gets stride 0), and labels
// no other term needs are summed out. Operands are then contracted left to right: each
// pair is laid out as [batch, m, k] x [batch, k, n] and multiplied by `gemm`; the result
// is finally permuted into the output's label order.

import SparrowIR

func einsum(_ k: KernelArgs) throws -> Tensor {
  guard let t = kernelNumberType(k.inputs[0].element) else {
    throw k.unsupported("element type \(k.inputs[0].element)")
  }
  guard k.inputs.allSatisfy({ $0.element == k.inputs[0].element }) else {
    throw k.unsupported("operands of different element types")
  }
  return k.inputs[0].element == .f32 ? try einsum(k, Float.self) : try einsum(k, t)
}

/// A dense operand during contraction: contiguous values over distinct labels.
private struct LabeledArray<T> {
  var labels: [Character]
  var values: [T]
}

private func einsum<T: KernelNumber>(_ k: KernelArgs, _: T.Type) throws -> Tensor {
  let eq = try EinsumEquation(k.attributes.string("equation"))
  let r = try eq.resolve(k.inputs.map(\.shape))
  let sizes = r.sizes
  var operands: [LabeledArray<T>] = []
  for (i, (tensor, labels)) in zip(k.inputs, r.inputs).enumerated() {
    // Labels needed later: in the output or in another operand.
    var needed = Set(r.output)
    for (j, other) in r.inputs.enumerated() where j != i { needed.formUnion(other) }
    operands.append(reduceToNeeded(tensor, labels: labels, sizes: sizes, needed: needed, T.self))
  }
  var current = operands[0]
  for i in operands.indices.dropFirst() {
    var needed = Set(r.output)
    for later in operands[(i + 1)...] { needed.formUnion(later.labels) }
    current = contract(current, operands[i], sizes: sizes, keep: needed)
  }
  // Sum labels that are not in the output (single-operand case) and permute.
  let final = sumOut(current, keep: r.output, sizes: sizes)
  let view = StridedView(shape: r.output.map { sizes[$0]! },
                         strides: r.output.map { strideOf($0, in: final.labels, sizes: sizes) })
  return Tensor.computed(k.type(), of: T.self) { out in
    final.values.withUnsafeBufferPointer { copyStrided($0.baseAddress!, view, to: out) }
  }
}

/// Stride of `label` in a contiguous array over `labels` (0 when absent).
private func strideOf(_ label: Character, in labels: [Character], sizes: [Character: Int]) -> Int {
  guard let i = labels.firstIndex(of: label) else { return 0 }
  return labels[(i + 1)...].reduce(1) { $0 * sizes[$1]! }
}

/// Views `tensor` over its distinct labels (diagonals for repeats, broadcast size-1 axes)
/// and sums out labels not in `needed`.
private func reduceToNeeded<T: KernelNumber>(_ tensor: some TensorBytes, labels: [Character],
                                             sizes: [Character: Int], needed: Set<Character>,
                                             _: T.Type) -> LabeledArray<T> {
  var distinct: [Character] = []
  for c in labels where !distinct.contains(c) { distinct.append(c) }
  let own = contiguousStrides(tensor.shape)
  var strides = [Int](repeating: 0, count: distinct.count)
  for (axis, c) in labels.enumerated() where tensor.shape[axis] != 1 {
    strides[distinct.firstIndex(of: c)!] += own[axis]
  }
  let kept = distinct.filter { needed.contains($0) }
  let summed = distinct.filter { !needed.contains($0) }
  let order = kept + summed
  let view = StridedView(shape: order.map { sizes[$0]! },
                         strides: order.map { strides[distinct.firstIndex(of: $0)!] })
  var values = [T](repeating: T.zero, count: view.count)
  tensor.withElementPointer(of: T.self) { p in
    values.withUnsafeMutableBufferPointer { copyStrided(p, view, to: $0.baseAddress!) }
  }
  return sumTrailing(LabeledArray(labels: order, values: values), keeping: kept.count, sizes: sizes)
}

/// Sums the labels after the first `count` (which stay, in order).
private func sumTrailing<T: KernelNumber>(_ a: LabeledArray<T>, keeping count: Int,
                                          sizes: [Character: Int]) -> LabeledArray<T> {
  if count == a.labels.count { return a }
  let kept = Array(a.labels.prefix(count))
  let outer = kept.reduce(1) { $0 * sizes[$1]! }
  let inner = a.labels[count...].reduce(1) { $0 * sizes[$1]! }
  var values = [T](repeating: T.zero, count: outer)
  let one = T(converting: 1)
  for o in 0..<outer {
    var acc = T.zero
    for i in 0..<inner { acc = T.multiplyAdd(acc, a.values[o * inner + i], one) }
    values[o] = acc
  }
  return LabeledArray(labels: kept, values: values)
}

/// Keeps `keep` (in output order), summing every other label.
private func sumOut<T: KernelNumber>(_ a: LabeledArray<T>, keep: [Character],
                                     sizes: [Character: Int]) -> LabeledArray<T> {
  let kept = a.labels.filter { keep.contains($0) }
  if kept.count == a.labels.count { return a }
  let order = kept + a.labels.filter { !keep.contains($0) }
  return sumTrailing(permuted(a, to: order, sizes: sizes), keeping: kept.count, sizes: sizes)
}

/// The same values laid out over `order` (a permutation of the labels).
private func permuted<T: KernelNumber>(_ a: LabeledArray<T>, to order: [Character],
                                       sizes: [Character: Int]) -> LabeledArray<T> {
  if order == a.labels { return a }
  let view = StridedView(shape: order.map { sizes[$0]! },
                         strides: order.map { strideOf($0, in: a.labels, sizes: sizes) })
  var values = [T](repeating: T.zero, count: view.count)
  a.values.withUnsafeBufferPointer { src in
    values.withUnsafeMutableBufferPointer { copyStrided(src.baseAddress!, view, to: $0.baseAddress!) }
  }
  return LabeledArray(labels: order, values: values)
}

/// Contracts two operands over their shared labels that are not kept.
private func contract<T: KernelNumber>(_ a: LabeledArray<T>, _ b: LabeledArray<T>,
                                       sizes: [Character: Int], keep: Set<Character>) -> LabeledArray<T> {
  let shared = a.labels.filter { b.labels.contains($0) }
  let batch = shared.filter { keep.contains($0) }
  let red = shared.filter { !keep.contains($0) }
  // Labels only in one operand were summed out already unless kept.
  let m = a.labels.filter { !b.labels.contains($0) }
  let n = b.labels.filter { !a.labels.contains($0) }
  let size = { (ls: [Character]) in ls.reduce(1) { $0 * sizes[$1]! } }
  let (nb, nm, nn, nk) = (size(batch), size(m), size(n), size(red))
  let pa = permuted(a, to: batch + m + red, sizes: sizes)
  let pb = permuted(b, to: batch + red + n, sizes: sizes)
  var values = [T](repeating: T.zero, count: nb * nm * nn)
  pa.values.withUnsafeBufferPointer { x in
    pb.values.withUnsafeBufferPointer { y in
      values.withUnsafeMutableBufferPointer { z in
        for i in 0..<nb {
          gemm(transA: false, transB: false, m: nm, n: nn, k: nk, alpha: T(converting: 1),
               a: x.baseAddress! + i * nm * nk, lda: max(nk, 1),
               b: y.baseAddress! + i * nk * nn, ldb: max(nn, 1), beta: T.zero,
               c: z.baseAddress! + i * nm * nn, ldc: max(nn, 1))
        }
      }
    }
  }
  return LabeledArray(labels: batch + m + n, values: values)
}
