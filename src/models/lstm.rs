//! A batch-first LSTM with fused gates (Keras layout: kernel `[D, 4K]`, recurrent kernel
//! `[K, 4K]`, gate order i, f, c, o), Keras initialisation (Glorot-uniform kernel, orthogonal
//! recurrent kernel, zero bias with the forget-gate bias at 1).

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::activation::{hard_sigmoid, sigmoid, tanh};

use super::GateActivation;
use super::init::Init;

/// Applies the gate activation.
pub(crate) fn gate<const D: usize>(x: Tensor<D>, act: GateActivation) -> Tensor<D> {
    match act {
        GateActivation::HardSigmoid => hard_sigmoid(x, 0.2, 0.5),
        GateActivation::Sigmoid => sigmoid(x),
    }
}

/// Keras LSTM bias: zeros, forget gate (second quarter) at 1 when `unit_forget_bias`.
pub(crate) fn lstm_bias(cells: usize, unit_forget_bias: bool) -> Vec<f32> {
    let mut b = vec![0f32; 4 * cells];
    if unit_forget_bias {
        b[cells..2 * cells].fill(1.0);
    }
    b
}

/// One LSTM update from the pre-activations `z = [i | f | c | o]` (`[B, 4K]`).
pub(crate) fn lstm_update(
    z: Tensor<2>,
    c_prev: Option<Tensor<2>>,
    cells: usize,
    act: GateActivation,
) -> (Tensor<2>, Tensor<2>) {
    let i = gate(z.clone().narrow(1, 0, cells), act);
    let g = tanh(z.clone().narrow(1, 2 * cells, cells));
    let o = gate(z.clone().narrow(1, 3 * cells, cells), act);
    let c = match c_prev {
        Some(c_prev) => {
            let f = gate(z.narrow(1, cells, cells), act);
            f * c_prev + i * g
        }
        // c_{-1} = 0: the forget gate has nothing to act on.
        None => i * g,
    };
    let h = o * tanh(c.clone());
    (h, c)
}

#[derive(Module, Debug)]
pub struct Lstm {
    /// `[D, 4K]`.
    pub kernel: Param<Tensor<2>>,
    /// `[K, 4K]`.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// `[4K]`.
    pub bias: Param<Tensor<1>>,
    pub cells: usize,
    #[module(skip)]
    pub gate_activation: GateActivation,
}

impl Lstm {
    pub(crate) fn new(
        d_input: usize,
        cells: usize,
        gate_activation: GateActivation,
        unit_forget_bias: bool,
        init: &mut Init,
    ) -> Self {
        let kernel = init.glorot_uniform([d_input, 4 * cells], d_input, 4 * cells);
        let recurrent_kernel = init.orthogonal(cells, 4 * cells);
        let bias = init.param(lstm_bias(cells, unit_forget_bias), [4 * cells]);
        Self { kernel, recurrent_kernel, bias, cells, gate_activation }
    }

    /// `x`: `[B, S, D]` (batch first) → last hidden state `[B, K]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, s, d] = x.dims();
        let k4 = 4 * self.cells;
        // Input projections of every step at once.
        let xw =
            x.reshape([b * s, d]).matmul(self.kernel.val()).add(self.bias.val().unsqueeze::<2>()).reshape([b, s, k4]);
        let mut h: Option<Tensor<2>> = None;
        let mut c: Option<Tensor<2>> = None;
        for t in 0..s {
            let mut z = if s == 1 { xw.clone().reshape([b, k4]) } else { xw.clone().narrow(1, t, 1).reshape([b, k4]) };
            if let Some(h) = h {
                z = z + h.matmul(self.recurrent_kernel.val());
            }
            let (h_new, c_new) = lstm_update(z, c, self.cells, self.gate_activation);
            h = Some(h_new);
            c = Some(c_new);
        }
        h.expect("an LSTM input has at least one step")
    }
}
