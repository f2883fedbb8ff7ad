// RUN: pimc opt %s -p "assign-precision,partition{target=hetero},tile{shards=2}" | filecheck %s

// An embedding bag on banks: two row shards, summed; a cross layer's matrix on crossbars
// and its products with x0 and x on the digital units.
// CHECK:      %[[S0:.*]] = pim.gather(%{{.*}}, %ids) {op = "emb0", shard = 0, rows = [0, 2]
// CHECK:      %[[S1:.*]] = pim.gather(%{{.*}}, %ids) {op = "emb0", shard = 1, rows = [2, 4]
// CHECK-NEXT: %[[E:.*]] = pim.combine(%[[S0]], %[[S1]]) {op = "emb0"
// CHECK:      %[[M:.*]] = pim.mvm(%[[E]], %{{.*}}) {op = "cross0", tile = [0, 0]
// CHECK-NEXT: %[[A:.*]] = nn.add(%[[M]], %b)
// CHECK-NEXT: %[[P:.*]] = nn.mul(%[[E]], %[[A]])
// CHECK-NEXT: nn.add(%[[P]], %[[E]])
module @banks {
  graph @main(%ids: tensor<2x3xi64>) -> (y: tensor<2x2xf32>) {
    %t = nn.constant {value = dense<4x2xf32, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>} : tensor<4x2xf32>
    %w = nn.constant {value = dense<2x2xf32, [1.0, -2.0, 0.5, 0.25]>} : tensor<2x2xf32>
    %b = nn.constant {value = dense<2xf32, [0.5, -0.5]>} : tensor<2xf32>
    %0 = rec.embedding_bag(%t, %ids) : tensor<2x2xf32>
    %1 = rec.cross(%0, %0, %w, %b) {kind = "matrix"} : tensor<2x2xf32>
    return %1
  }
}
