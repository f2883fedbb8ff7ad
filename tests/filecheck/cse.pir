// RUN: pimc opt %s -p canonicalize,fuse-interactions --split-input-file | filecheck %s

// Common-subexpression elimination in canonicalize: the same (table, ids) lookup done twice is
// one rec.embedding_bag serving both uses, through the duplicated slice and cast chain
// the exporters write per use.
// CHECK-LABEL: module @same_lookup_twice
// CHECK:      nn.slice(%x)
// CHECK-NOT:  nn.slice
// CHECK:      nn.cast
// CHECK-NOT:  nn.cast
// CHECK:      rec.embedding_bag(%{{.*}}, %{{.*}}) {mode = "none"}
// CHECK-NOT:  rec.embedding_bag
// CHECK:      nn.add(%[[E:.*]], %[[E]])
module @same_lookup_twice {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x1x2xf32>) {
    %t = nn.constant {value = dense<5x2xf32, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]>} : tensor<5x2xf32>
    %s1 = nn.slice(%x) {starts = [0], ends = [1], axes = [1]} : tensor<4x1xf32>
    %c1 = nn.cast(%s1) {to = "i64"} : tensor<4x1xi64>
    %e1 = nn.gather(%t, %c1) {axis = 0} : tensor<4x1x2xf32>
    %s2 = nn.slice(%x) {starts = [0], ends = [1], axes = [1]} : tensor<4x1xf32>
    %c2 = nn.cast(%s2) {to = "i64"} : tensor<4x1xi64>
    %e2 = nn.gather(%t, %c2) {axis = 0} : tensor<4x1x2xf32>
    %0 = nn.add(%e1, %e2) : tensor<4x1x2xf32>
    return %0
  }
}

// -----

// Near miss: the second lookup reads another column of x (other slice bounds), so the
// lookups differ and both stay.
// CHECK-LABEL: module @other_ids
// CHECK-COUNT-2: rec.embedding_bag
module @other_ids {
  graph @main(%x: tensor<4x3xf32>) -> (y: tensor<4x1x2xf32>) {
    %t = nn.constant {value = dense<5x2xf32, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]>} : tensor<5x2xf32>
    %s1 = nn.slice(%x) {starts = [0], ends = [1], axes = [1]} : tensor<4x1xf32>
    %c1 = nn.cast(%s1) {to = "i64"} : tensor<4x1xi64>
    %e1 = nn.gather(%t, %c1) {axis = 0} : tensor<4x1x2xf32>
    %s2 = nn.slice(%x) {starts = [1], ends = [2], axes = [1]} : tensor<4x1xf32>
    %c2 = nn.cast(%s2) {to = "i64"} : tensor<4x1xi64>
    %e2 = nn.gather(%t, %c2) {axis = 0} : tensor<4x1x2xf32>
    %0 = nn.add(%e1, %e2) : tensor<4x1x2xf32>
    return %0
  }
}

// -----

// Near miss: the same ids looked up in two tables that differ in one row stay two lookups;
// the two equal index literals become one.
// CHECK-LABEL: module @two_tables
// CHECK:      nn.constant {value = dense<1xi64, [2]>}
// CHECK-NOT:  nn.constant {value = dense<1xi64, [2]>}
// CHECK-COUNT-2: rec.embedding_bag
module @two_tables {
  graph @main(%x: tensor<4x3xi64>) -> (y: tensor<4x3x2xf32>) {
    %t = nn.constant {value = dense<5x2xf32, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]>} : tensor<5x2xf32>
    %u = nn.constant {value = dense<5x2xf32, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5]>} : tensor<5x2xf32>
    %k1 = nn.constant {value = dense<1xi64, [2]>} : tensor<1xi64>
    %k2 = nn.constant {value = dense<1xi64, [2]>} : tensor<1xi64>
    %i1 = nn.mod(%x, %k1) : tensor<4x3xi64>
    %i2 = nn.mod(%x, %k2) : tensor<4x3xi64>
    %e1 = nn.gather(%t, %i1) {axis = 0} : tensor<4x3x2xf32>
    %e2 = nn.gather(%u, %i2) {axis = 0} : tensor<4x3x2xf32>
    %0 = nn.add(%e1, %e2) : tensor<4x3x2xf32>
    return %0
  }
}

