// RUN: pimc opt %s -p "place{solver=naive},schedule,lower-bound" | filecheck %s --check-prefix=NAIVE
// RUN: pimc opt %s -p "place{solver=greedy},schedule,lower-bound" | filecheck %s --check-prefix=GREEDY

// Two 4x2 tiles of one op on ISAAC: naive puts them on crossbars 0 and 1 with no copy;
// greedy gives the op one copy per input vector (2), all tiles sharing the count, and meets
// the bound. The combine
// runs on the chip tile of its first tile's crossbar; both are scheduled.
// NAIVE:      pim.interval = 3840, pim.latency = 3843, pim.lower_bound.interval = 1920, pim.lower_bound.latency = 1923
// NAIVE-SAME: pim.place.solver = "naive"
// NAIVE:      pim.mvm{{.*}}pim.end = 3840, pim.loc = [0], pim.replicas = 1, pim.start = 0
// NAIVE:      pim.mvm{{.*}}pim.end = 3840, pim.loc = [1], pim.replicas = 1, pim.start = 0
// NAIVE:      pim.combine{{.*}}pim.end = 3843, pim.loc = [0], pim.start = 3840
// GREEDY:     pim.interval = 1920, pim.latency = 1923
// GREEDY:     pim.mvm{{.*}}pim.loc = [0, 2], pim.replicas = 2
// GREEDY:     pim.mvm{{.*}}pim.loc = [1, 3], pim.replicas = 2
module @m attributes {pim.batch = 2, pim.target = "isaac"} {
  graph @main(%x: tensor<2x4xf32>) -> (y: tensor<2x4xf32>) {
    %w0 = nn.constant {value = dense<4x2xf32, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]>, pim.unit = "none"} : tensor<4x2xf32>
    %w1 = nn.constant {value = dense<4x2xf32, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]>, pim.unit = "none"} : tensor<4x2xf32>
    %0 = pim.mvm(%x, %w0) {op = "fc", tile = [0, 0], rows = [0, 4], cols = [0, 2], w_bits = 16, a_bits = 16, cell_bits = 2, dac_bits = 1, adc_bits = 8, signed = "offset", x_scale = 0.1, w_scale = 0.1, pim.unit = "crossbar"} : tensor<2x2xf32>
    %1 = pim.mvm(%x, %w1) {op = "fc", tile = [0, 1], rows = [0, 4], cols = [2, 4], w_bits = 16, a_bits = 16, cell_bits = 2, dac_bits = 1, adc_bits = 8, signed = "offset", x_scale = 0.1, w_scale = 0.1, pim.unit = "crossbar"} : tensor<2x2xf32>
    %2 = pim.combine(%0, %1) {op = "fc", mode = "concat", pim.unit = "digital"} : tensor<2x4xf32>
    return %2
  }
}
