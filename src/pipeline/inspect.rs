//! `inspect`: read a checkpoint (and optionally a feature set) and describe the head.

use super::{inputs, Outcome};
use crate::load::{inspect, read_features};
use crate::settings::{InspectSettings, Printer};

/// Runs `inspect`: JSON (CONTRACT §3) or a short text description on stdout.
/// Features that do not fit the head are an error (exit 2) after the description.
pub fn run(args: &InspectSettings, _printer: &Printer) -> anyhow::Result<Outcome> {
    let ckpt = inputs::checkpoint(&args.checkpoint, args.activation)?;
    let fs = args.features.as_deref().map(read_features).transpose()?;
    let desc = inspect(&ckpt, fs.as_ref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&desc)?);
    } else {
        print!("{}", text(&desc));
    }
    if let Some(fs) = &fs {
        fs.check_against(&ckpt.head)?;
        inputs::check_logits(fs, &ckpt)?;
    }
    Ok(Outcome::Success)
}

/// The human form of the description.
fn text(d: &serde_json::Value) -> String {
    let head = &d["head"];
    let mut s = format!(
        "checkpoint   {}\nhead         {} ({}), activation {}, bias {}\nclasses      {}\nhidden size  {}\n",
        d["checkpoint"]["path"].as_str().unwrap_or("?"),
        head["kind"].as_str().unwrap_or("?"),
        head["dtype"].as_str().unwrap_or("?"),
        head["activation"].as_str().unwrap_or("none"),
        head["has_bias"],
        d["num_classes"],
        d["hidden_size"],
    );
    if !d["lora_merged"].is_null() {
        s.push_str("lora         merged into the head\n");
    }
    if let Some(rows) = d.get("rows") {
        s.push_str(&format!(
            "rows         {rows}\nerror rate   {:.4}\nlogits diff  {}\n",
            d["error_rate"].as_f64().unwrap_or(f64::NAN),
            match d["logits_max_abs_diff"].as_f64() {
                Some(v) => format!("{v:.3e} (max abs, head vs stored logits)"),
                None => "n/a (no stored logits)".to_string(),
            }
        ));
    }
    s
}
