//! A short-lived helper container (a runtime probe, a filesystem export) that
//! must not outlive what made it: removed (forced, with its anonymous volumes)
//! when its guard is dropped while still armed, in the background on the runtime.
use bollard::query_parameters as qp;
use bollard::Docker;

pub(super) struct RemoveOnDrop {
    pub docker: Docker,
    /// The container still to remove (`None`: disarmed).
    pub id: Option<String>,
    /// What it is, for the log ("probe", "export").
    pub what: &'static str,
}

impl RemoveOnDrop {
    /// Removes it now (once); a failure is logged.
    pub async fn remove_now(&mut self) {
        if let Some(id) = self.id.take() {
            if let Err(e) = self.docker.remove_container(&id, Some(force())).await {
                tracing::warn!("cannot remove {} container {id}: {e}", self.what);
            }
        }
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let (docker, what) = (self.docker.clone(), self.what);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            // One bounded request; it ends by itself.
            rt.spawn(async move {
                if let Err(e) = docker.remove_container(&id, Some(force())).await {
                    tracing::warn!("cannot remove {what} container {id}: {e}");
                }
            });
        }
    }
}

pub(super) fn force() -> qp::RemoveContainerOptions {
    qp::RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    }
}
