//! `finetune`: phase 2 — K iterations from the previous best weights, learning rate halved each
//! iteration, batch halved every second one, best iteration kept. Phase 1 is the upstream `train`
//! stage, so editing these parameters never retrains it.

use super::artifact::{DATASET_FILE, read_dataset, read_json, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use super::train::{
    HISTORY_FILE, SAFETENSORS_FILE, SUMMARY_FILE, TrainSummary, WEIGHTS_FILE, append_history_csv, epoch_progress,
    model_err, train_context,
};
use crate::device::Device;
use crate::models::FinetuneConfig;

pub struct Finetune;

crate::stage_params! {
    /// Parameters of `finetune`.
    pub struct FinetuneParams {
        /// K fine-tuning iterations
        pub iterations: usize [Int = 5],
        /// epochs per iteration
        pub epochs: usize [Int = 3000],
        /// floor of the halved learning rate
        pub lr_floor: f64 [Float = 1e-4],
        /// floor of the halved batch size
        pub batch_floor: usize [Int = 1],
        /// start each iteration from the best so far (the original script's revert)
        pub revert_to_best: bool [Bool = false],
    }
}

impl TypedStage for Finetune {
    type Params = FinetuneParams;
    fn resources(&self, _: &FinetuneParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::TRAINING
    }
    fn name(&self) -> &'static str {
        "finetune"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Phase-2 fine-tuning: K iterations, lr halved each, batch halved every second, best kept"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![
            InputSpec { name: "model", required: true, gather: false, doc: "a trained model (train stage)" },
            InputSpec { name: "data", required: true, gather: false, doc: "the dataset it was trained on" },
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(WEIGHTS_FILE, "the weights of the best iteration"),
            OutputSpec::file(SAFETENSORS_FILE, "the same as SafeTensors"),
            OutputSpec::file(SUMMARY_FILE, "spec, config, best iteration"),
            OutputSpec::file(HISTORY_FILE, "per-epoch history of every iteration").volatile(),
            OutputSpec::file("iterations.csv", "lr, batch, best epoch and monitored loss per iteration"),
        ]
    }
    fn wants_accelerator(&self, _: &FinetuneParams) -> bool {
        true
    }
    fn env_key(&self, _: &FinetuneParams, device: &Device) -> Option<String> {
        Some(device.backend_id())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &FinetuneParams) -> Result<(), StageError> {
        let model = ctx.input("model")?;
        let base: TrainSummary = read_json(model.file(SUMMARY_FILE)?)?;
        let wpath = model.file(WEIGHTS_FILE)?;
        let weights = std::fs::read(wpath).map_err(|e| StageError::io(wpath, e))?;
        let data = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let ft = FinetuneConfig {
            iterations: p.iterations,
            epochs_per_iteration: p.epochs,
            lr_floor: p.lr_floor,
            batch_floor: p.batch_floor,
            revert_to_best: p.revert_to_best,
        };
        let total = ft.iterations * ft.epochs_per_iteration;
        let tctx = train_context(ctx);
        let out = crate::models::finetune(&base.spec, &data, &base.config, &ft, &tctx, &weights, |it, r| {
            epoch_progress(ctx, &format!("it {it}/{}: ", ft.iterations), total, (it - 1) * ft.epochs_per_iteration, r)
        })
        .map_err(model_err)?;
        ctx.write(WEIGHTS_FILE, &out.weights)?;
        ctx.write(SAFETENSORS_FILE, &out.safetensors)?;
        let mut csv = Vec::new();
        let mut iters =
            String::from("iteration,learning_rate,batch_size,best_epoch,best_monitored_loss,best_monitored_acc\n");
        for it in &out.iterations {
            append_history_csv(&it.history, out.monitor, &mut csv)?;
            iters.push_str(&format!(
                "{},{},{},{},{},{}\n",
                it.iteration,
                it.learning_rate,
                it.batch_size,
                it.best_epoch,
                it.best_monitored_loss,
                it.best_monitored_acc
            ));
        }
        ctx.write(HISTORY_FILE, csv)?;
        ctx.write("iterations.csv", iters)?;
        let best = &out.iterations[out.best_iteration - 1];
        let summary = TrainSummary {
            best_epoch: best.best_epoch,
            best_monitored_loss: best.best_monitored_loss,
            monitor: out.monitor,
            protocol_note: out.monitor.note().map(str::to_string),
            digest: out.digest.clone(),
            best_iteration: Some(out.best_iteration),
            ..base
        };
        write_json(&ctx.output(SUMMARY_FILE), &summary)
    }
}
