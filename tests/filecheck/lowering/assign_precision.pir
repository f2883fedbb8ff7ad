// RUN: pimc opt %s -p "assign-precision{default=8,rec.attention=16}" --split-input-file | filecheck %s

// Options: the default for every op with arithmetic, per-op-type overrides, bits on the
// result types, a calibrated input scale on crossbar ops, nothing on literals and views.
// CHECK-LABEL: module @options
// CHECK:      nn.constant {value = {{.*}}} : tensor<3x2xf32>
// CHECK:      rec.dense(%x, %{{.*}}) {pim.a_bits = 8, pim.w_bits = 8, pim.x_scale = {{.*}}} : tensor<2x2xf32, bits=8>
// CHECK:      nn.reshape(%{{.*}}) {shape = [2, 1, 2]} : tensor<2x1x2xf32>
// CHECK:      rec.attention(%{{.*}}) {pim.a_bits = 16, pim.w_bits = 16, pim.x_scale = {{.*}}} : tensor<2x1x2xf32, bits=16>
// CHECK:      nn.sigmoid(%{{.*}}) {pim.a_bits = 8, pim.w_bits = 8} : tensor<2x1x2xf32, bits=8>
module @options {
  graph @main(%x: tensor<2x3xf32>) -> (y: tensor<2x1x2xf32>) {
    %w = nn.constant {value = dense<3x2xf32, [1.0, -2.0, 0.5, 0.25, -1.0, 4.0]>} : tensor<3x2xf32>
    %q = nn.constant {value = dense<2x2xf32, [1.0, 0.0, 0.0, 1.0]>} : tensor<2x2xf32>
    %0 = rec.dense(%x, %w) : tensor<2x2xf32>
    %1 = nn.reshape(%0) {shape = [2, 1, 2]} : tensor<2x1x2xf32>
    %2 = rec.attention(%1, %q, %q, %q) : tensor<2x1x2xf32>
    %3 = nn.sigmoid(%2) : tensor<2x1x2xf32>
    return %3
  }
}
