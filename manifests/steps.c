/* The one table of the install's steps (manifests/steps.h). */
#include "manifests/steps.h"

#include <string.h>

static const struct tf_step steps[TF_STEPS_N] = {
    {TF_STEP_ID_CHECK, "check", "control host",
     "Verify the bundle: structure, signatures against the trust policy, validity window, target "
     "cluster, anti-rollback sequence and every payload file's sha256; extract it into a private "
     "staging folder.",
     TF_STEPS_RERUN},
    {TF_STEP_ID_RECORD_MIRROR, "record-mirror", "control host",
     "Record TiUP's current mirror (`$TIUP_HOME/tiup.toml`, `bin/root.json`, `manifests/`) so that "
     "it can be put back.",
     0},
    {TF_STEP_ID_TIUP_PREFLIGHT, "tiup-preflight", "control host",
     "Check that the installed TiUP runs and that the bundle has packages for this host's "
     "platform.",
     0},
    {TF_STEP_ID_MIRROR_SET, "mirror-set", "control host",
     "Point TiUP at the bundle's verified mirror.",
     TF_STEPS_UPGRADE | TF_STEPS_NO_STOP_AFTER | TF_STEPS_TIUP},
    {TF_STEP_ID_UPDATE_SELF, "update-self", "control host",
     "Upgrade TiUP itself from the bundle's mirror.",
     TF_STEPS_UPGRADE | TF_STEPS_NO_STOP_AFTER | TF_STEPS_TIUP},
    {TF_STEP_ID_UPDATE_COMPONENTS, "update-components", "control host",
     "Upgrade the TiUP components the bundle carries.",
     TF_STEPS_UPGRADE | TF_STEPS_NO_STOP_AFTER | TF_STEPS_TIUP},
    {TF_STEP_ID_RESTORE_MIRROR, "restore-mirror", "control host",
     "Switch TiUP's mirror back to the one recorded before: tiferry writes the recorded files "
     "back (this also happens after any failure, and first thing on `--resume`); then, when the "
     "bundle names a mirror to restore, point TiUP at it.",
     TF_STEPS_UPGRADE | TF_STEPS_TIUP},
    {TF_STEP_ID_VERIFY_VERSIONS, "verify-versions", "control host",
     "Check that the upgraded versions still resolve under the restored mirror.", TF_STEPS_UPGRADE},
    {TF_STEP_ID_PLACE_CERTIFICATES, "place-certificates", "control host",
     "Decrypt the CA and the client certificate and place them in TiUP's `tls/` folder "
     "(`$TIUP_HOME/storage/cluster/clusters/<cluster>/tls/`, keys 0600) so that `tiup cluster "
     "tls enable` reuses them; files already there are moved to a backup folder first.",
     TF_STEPS_NEEDS_TLS | TF_STEPS_TIUP},
    {TF_STEP_ID_PREFLIGHT, "preflight", "every host (SSH)",
     "Read-only checks on every host in parallel: SSH reachability with the pinned host keys, "
     "duplicate `node_exporter` units, free disk in the deploy folders, the ports of the PD "
     "members to be removed; PD health and leader (from the control host).",
     TF_STEPS_CLUSTER},
    {TF_STEP_ID_SCALE_IN_PD, "scale-in-pd", "control host (TiUP)",
     "Scale PD in to one member, keeping the leader (TiUP enables TLS only on a single-PD "
     "cluster); wait until the removed members' ports are free.",
     TF_STEPS_CLUSTER | TF_STEPS_PD_SCALE},
    {TF_STEP_ID_RESTRICT_CN, "restrict-cn", "control host (TiUP)",
     "Only with the plan's `restrict_cn`: set `server_configs.tikv.\"security.cert-allowed-cn\"` "
     "and `server_configs.tidb.\"security.cluster-verify-cn\"` to the CNs TiUP issues to the "
     "nodes and the client certificate's CN, through `tiup cluster edit-config "
     "--topology-file`, and read meta.yaml back to confirm (TiUP exits 0 when it rejects an "
     "edit). `tls enable` then renders them into the nodes' configs: TiKV's and TiDB's status "
     "ports require a client certificate with one of those CNs.",
     TF_STEPS_CLUSTER | TF_STEPS_RESTRICT_CN},
    {TF_STEP_ID_TLS_ENABLE, "tls-enable", "control host (TiUP)",
     "Enable TLS between all components. TiUP issues node certificates from the bundle's CA and "
     "restarts the whole cluster.",
     TF_STEPS_CLUSTER},
    {TF_STEP_ID_TIGHTEN_KEYS, "tighten-keys", "every host (SSH), control host",
     "TiUP writes every node's private key `<deploy_dir>/tls/<role>.pem` with mode 0644 and "
     "keeps copies in `config-cache/`: on every host, `chown` each key of every instance's and "
     "the monitoring agents' `tls/` folder to the deploy user and `chmod 0600` it, then read "
     "the modes back; remove the node key copies from "
     "`$TIUP_HOME/storage/cluster/clusters/<cluster>/config-cache/` and make TiUP's own "
     "`tls/` keys 0600. A host that cannot be reached fails the step.",
     TF_STEPS_CLUSTER},
    {TF_STEP_ID_REPAIR_PEERS, "repair-peers", "control host (etcd API of PD)",
     "Only when PD serves https but etcd still lists `http://` peer URLs: update them through "
     "etcd's member API with the client certificate (as `etcdctl member update` would).",
     TF_STEPS_CLUSTER},
    {TF_STEP_ID_SCALE_OUT_PD, "scale-out-pd", "control host (TiUP)",
     "Scale the removed PD members back out from the bundle's PD topology; wait until they are "
     "healthy.",
     TF_STEPS_CLUSTER | TF_STEPS_PD_SCALE},
    {TF_STEP_ID_TIGHTEN_KEYS_PD, "tighten-keys-pd", "the scaled-out PD hosts (SSH), control host",
     "As `tighten-keys`, for the keys that `scale-out-pd` made (the PD members scaled back out "
     "and the monitoring agents on their hosts), and the new copies in `config-cache/`.",
     TF_STEPS_CLUSTER | TF_STEPS_PD_SCALE},
    {TF_STEP_ID_HEALTH, "health", "control host (PD over https)",
     "Every PD member answers over https with the client certificate, is healthy, and there is "
     "one leader: the checks of `tiferry verify`. The verify receipt is written.",
     TF_STEPS_CLUSTER},
    {TF_STEP_ID_RECORD_SEQUENCE, "record-sequence", "control host",
     "Record the bundle's sequence number: an older bundle is refused from now on.", 0},
    {TF_STEP_ID_WIPE_STAGING, "wipe-staging", "control host", "Remove the staging folder.", 0},
};

const struct tf_step *tf_step_get(size_t id)
{
	return id < TF_STEPS_N ? &steps[id] : NULL;
}

const struct tf_step *tf_step_find(const char *name)
{
	size_t i;

	for (i = 0; i < TF_STEPS_N; i++)
		if (strcmp(steps[i].name, name) == 0)
			return &steps[i];
	return NULL;
}
