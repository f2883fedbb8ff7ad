// RUN: pimc opt %s -p "assign-precision,partition{target=hetero}" | filecheck %s --check-prefix=HETERO
// RUN: pimc opt %s -p "assign-precision,partition{target=hbm-pim}" | filecheck %s --check-prefix=BANKS

// Crossbar matmuls on crossbars (or near-bank GEMV without them), embedding bags on banks,
// interactions on digital units, literals and views free.
// HETERO:      module @units attributes {pim.batch = 2, pim.target = "hetero"}
// HETERO:      nn.constant {{.*}}pim.unit = "none"
// HETERO:      rec.embedding_bag({{.*}}pim.unit = "bank"
// HETERO:      rec.dense({{.*}}pim.unit = "crossbar"
// HETERO:      nn.reshape({{.*}}pim.unit = "none"
// HETERO:      rec.dot_interaction({{.*}}pim.unit = "digital"
// BANKS:       rec.embedding_bag({{.*}}pim.unit = "bank"
// BANKS:       rec.dense({{.*}}pim.unit = "bank"
// BANKS:       rec.dot_interaction({{.*}}pim.unit = "digital"
module @units {
  graph @main(%x: tensor<2x2xf32>, %ids: tensor<2x3xi64>) -> (y: tensor<2x1xf32>) {
    %t = nn.constant {value = dense<4x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>} : tensor<4x2xf32>
    %w = nn.constant {value = dense<2x2xf32, [1.0, -2.0, 0.5, 0.25]>} : tensor<2x2xf32>
    %e = rec.embedding_bag(%t, %ids) : tensor<2x2xf32>
    %d = rec.dense(%x, %w) {activation = "relu"} : tensor<2x2xf32>
    %c = nn.concat(%d, %e) {axis = 1} : tensor<2x4xf32>
    %r = nn.reshape(%c) {shape = [2, 2, 2]} : tensor<2x2x2xf32>
    %i = rec.dot_interaction(%r) : tensor<2x1xf32>
    return %i
  }
}
