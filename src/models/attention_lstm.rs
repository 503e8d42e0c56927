//! The attention LSTM of ALSTM-FCN (reproduction report §3.2.2, eqs. 7–15; the original Keras
//! `AttentionLSTM` of `titu1994/LSTM-FCN`).
//!
//! For an input sequence `x_1..x_S` (`[B, S, D]`), at every step `t`:
//!
//! ```text
//! e_tj = act(h_{t-1} W_ah + x_j U_a + b_a) · b_ra          (7)   j = 1..S (the input steps)
//! α_tj = softmax_j(e_tj)                                    (8)
//! c_t  = Σ_j α_tj x_j                                       (9)   the context, D features
//! i    = gate(x_t W_i + h_{t-1} W_hi + c_t W_ai + b_i)       (11)
//! f    = gate(x_t W_f + h_{t-1} W_hf + c_t W_af + b_f)       (10)
//! c̃    = tanh(x_t W_c + h_{t-1} W_hc + c_t W_ac + b_c)       (12)
//! o    = gate(x_t W_o + h_{t-1} W_ho + c_t W_ao + b_o)       (13)
//! C_t  = f ⊙ C_{t-1} + i ⊙ c̃ ;  h_t = o ⊙ tanh(C_t)          (14, 15)
//! ```
//!
//! `act` is `tanh` by default (the Keras code) or the hard sigmoid (the report's eq. 7). Every
//! operation is per series: the softmax runs over the steps of one series and the context is a
//! batched product, so a prediction never depends on the rest of its batch. Since
//! `c_t W_a = Σ_j α_tj (x_j W_a)`, the projections `x_j W_a` are computed once for all steps.
//! Parameters follow Keras: `kernel` `[D, 4K]` (Glorot), `recurrent_kernel` `[K, 4K]`,
//! `attention_kernel` `[D, 4K]`, `attention_w` (`U_a`) `[D, K]`, `attention_u` (`W_ah`) `[K, K]`
//! (orthogonal), biases zero (forget gate 1), `attention_v` (`b_ra`) `[K, 1]` zero.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::activation::{hard_sigmoid, softmax, tanh};

use super::init::Init;
use super::lstm::{lstm_bias, lstm_update};
use super::{EnergyActivation, GateActivation};

#[derive(Module, Debug)]
pub struct AttentionLstm {
    /// `[D, 4K]` input kernel.
    pub kernel: Param<Tensor<2>>,
    /// `[K, 4K]` recurrent kernel.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// `[D, 4K]` context kernel (`W_ai | W_af | W_ac | W_ao`).
    pub attention_kernel: Param<Tensor<2>>,
    /// `[4K]` gate bias.
    pub bias: Param<Tensor<1>>,
    /// `U_a`, `[D, K]`.
    pub attention_w: Param<Tensor<2>>,
    /// `W_ah`, `[K, K]`.
    pub attention_u: Param<Tensor<2>>,
    /// `b_a`, `[K]`.
    pub attention_b: Param<Tensor<1>>,
    /// `b_ra`, `[K, 1]`.
    pub attention_v: Param<Tensor<2>>,
    pub cells: usize,
    #[module(skip)]
    pub gate_activation: GateActivation,
    #[module(skip)]
    pub energy_activation: EnergyActivation,
}

impl AttentionLstm {
    pub(crate) fn new(
        d_input: usize,
        cells: usize,
        gate_activation: GateActivation,
        energy_activation: EnergyActivation,
        unit_forget_bias: bool,
        init: &mut Init,
    ) -> Self {
        let k = cells;
        let kernel = init.glorot_uniform([d_input, 4 * k], d_input, 4 * k);
        let recurrent_kernel = init.orthogonal(k, 4 * k);
        let attention_kernel = init.orthogonal(d_input, 4 * k);
        let bias = init.param(lstm_bias(k, unit_forget_bias), [4 * k]);
        let attention_w = init.orthogonal(d_input, k);
        let attention_u = init.orthogonal(k, k);
        let attention_b = init.constant(0.0, [k]);
        let attention_v = init.constant(0.0, [k, 1]);
        Self {
            kernel,
            recurrent_kernel,
            attention_kernel,
            bias,
            attention_w,
            attention_u,
            attention_b,
            attention_v,
            cells,
            gate_activation,
            energy_activation,
        }
    }

    fn energy_act(&self, x: Tensor<3>) -> Tensor<3> {
        match self.energy_activation {
            EnergyActivation::Tanh => tanh(x),
            EnergyActivation::HardSigmoid => hard_sigmoid(x, 0.2, 0.5),
        }
    }

    /// `x`: `[B, S, D]` → (last hidden state `[B, K]`, attention weights `[B, S, S]`).
    pub fn forward(&self, x: Tensor<3>) -> (Tensor<2>, Tensor<3>) {
        let [b, s, d] = x.dims();
        let k = self.cells;
        let k4 = 4 * k;
        let flat = x.reshape([b * s, d]);
        // x_t W + b for every step, x_j W_a (context kernel) and x_j U_a + b_a, once.
        let xw = flat.clone().matmul(self.kernel.val()).add(self.bias.val().unsqueeze::<2>()).reshape([b, s, k4]);
        let xa = flat.clone().matmul(self.attention_kernel.val()).reshape([b, s, k4]);
        let xu = flat.matmul(self.attention_w.val()).add(self.attention_b.val().unsqueeze::<2>()).reshape([b, s, k]);

        let mut h: Option<Tensor<2>> = None;
        let mut c: Option<Tensor<2>> = None;
        let mut alphas = Vec::with_capacity(s);
        for t in 0..s {
            // (7) energies over the input steps j, per series.
            let pre = match &h {
                Some(h) => xu.clone() + h.clone().matmul(self.attention_u.val()).unsqueeze_dim::<3>(1),
                None => xu.clone(),
            };
            let e = self.energy_act(pre).reshape([b * s, k]).matmul(self.attention_v.val()).reshape([b, s]);
            // (8) softmax over j; (9) context projected by W_a: Σ_j α_tj (x_j W_a).
            let alpha = softmax(e, 1);
            let ctx = alpha.clone().unsqueeze_dim::<3>(1).matmul(xa.clone()).reshape([b, k4]);
            alphas.push(alpha);

            let x_t = if s == 1 { xw.clone().reshape([b, k4]) } else { xw.clone().narrow(1, t, 1).reshape([b, k4]) };
            let mut z = x_t + ctx;
            if let Some(h) = h {
                z = z + h.matmul(self.recurrent_kernel.val());
            }
            let (h_new, c_new) = lstm_update(z, c, k, self.gate_activation);
            h = Some(h_new);
            c = Some(c_new);
        }
        (h.expect("an LSTM input has at least one step"), Tensor::stack(alphas, 1))
    }
}
