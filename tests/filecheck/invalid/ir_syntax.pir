// ERROR: ir_syntax.pir:7:20: syntax error: expected
// ERROR: got ':'
module @bad {
  graph @main(%x: tensor<4xf32>) -> (y: tensor<4xf32>) {
    %0 = nn.relu(%x) : tensor<4xf32>
    // The op below lacks its operand list's closing parenthesis.
    %1 = nn.neg(%0 : tensor<4xf32>
    return %1
  }
}
