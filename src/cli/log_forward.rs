//! Log forwarding on the command line: the lines `berth create` and `berth status`
//! print (`berth image build|present --logs` are in `cli::sidecar_image`).
use crate::domain::log_forward::Forwarding;

/// `berth status`'s line: where the logs go, through which sidecar.
pub fn status_line(f: &Forwarding) -> String {
    format!("{:<10} {}\n", "logs", f.summary())
}
