// RUN: pimc opt %s -p "assign-precision{default=16},partition{target=puma},tile{rows=2}" --split-input-file | filecheck %s

// A 3x2 dense on arrays of 2 rows: two row tiles summed, then the digital bias and relu.
// CHECK-LABEL: module @dense
// CHECK:      %[[W0:.*]] = nn.constant {value = dense<2x2xf32, [1.0, -2.0, 0.5, 0.25]>, pim.unit = "none"}
// CHECK-NEXT: %[[T0:.*]] = pim.mvm(%x, %[[W0]]) {op = "dense0", tile = [0, 0], rows = [0, 2], cols = [0, 2], w_bits = 16, a_bits = 16, cell_bits = 2, dac_bits = 1, adc_bits = 8, signed = "offset", {{.*}}pim.unit = "crossbar"}
// CHECK-NEXT: %[[W1:.*]] = nn.constant {value = dense<1x2xf32, [-1.0, 4.0]>, pim.unit = "none"}
// CHECK-NEXT: %[[T1:.*]] = pim.mvm(%x, %[[W1]]) {op = "dense0", tile = [1, 0], rows = [2, 3], cols = [0, 2]
// CHECK-NEXT: %[[S:.*]] = pim.combine(%[[T0]], %[[T1]]) {op = "dense0", pim.unit = "digital"}
// CHECK-NEXT: %[[B:.*]] = nn.add(%[[S]], %b) {{.*}}pim.unit = "digital"
// CHECK-NEXT: nn.relu(%[[B]]) {{.*}}pim.unit = "digital"
// CHECK-NOT:  rec.dense
module @dense {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, -2.0, 0.5, 0.25, -1.0, 4.0]>} : tensor<3x2xf32>
    %b = nn.constant {value = dense<2xf32, [0.5, -0.5]>} : tensor<2xf32>
    %0 = rec.dense(%x, %w, %b) {activation = "relu"} : tensor<2x2xf32>
    return %0
  }
}

// -----

// An embedding bag on a target without banks stays whole on the digital units.
// CHECK-LABEL: module @embedding_digital
// CHECK:      rec.embedding_bag({{.*}}pim.unit = "digital"
// CHECK-NOT:  pim.gather
module @embedding_digital {
  graph @main(%ids: tensor<2x3xi64>) -> (y: tensor<2x2xf32>) {
    %t = nn.constant {value = dense<4x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>} : tensor<4x2xf32>
    %0 = rec.embedding_bag(%t, %ids) : tensor<2x2xf32>
    return %0
  }
}

// -----

// A 3x20 matmul: 16-bit weights take 8 of puma's 128 columns, the offset column one more, so an
// array holds 15 weights a row. Each row block is one tile over two crossbars (15 + 5
// columns), and the row tiles are summed: no concatenation of column tiles.
// CHECK-LABEL: module @wide
// CHECK:      %[[T0:.*]] = pim.mvm(%x, %{{.*}}) {op = "matmul0", tile = [0, 0], rows = [0, 2], cols = [0, 20], {{.*}}crossbar_cols = 15
// CHECK:      %[[T1:.*]] = pim.mvm(%x, %{{.*}}) {op = "matmul0", tile = [1, 0], rows = [2, 3], cols = [0, 20], {{.*}}crossbar_cols = 15
// CHECK-NEXT: pim.combine(%[[T0]], %[[T1]]) {op = "matmul0", pim.unit = "digital"}
// CHECK-NOT:  pim.mvm
// CHECK-NOT:  mode = "concat"
module @wide {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x20xf32>) {
    %w = nn.constant {value = dense<3x20xf32, [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0]>} : tensor<3x20xf32>
    %0 = nn.matmul(%x, %w) : tensor<2x20xf32>
    return %0
  }
}
