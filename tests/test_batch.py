"""``ikeview batch``: many captures into one dataset; the same dataset locally, with --jobs and on
a Dask cluster; a capture that cannot be read is a row, not the end of the batch.

Expected values come from reading the packets: in ``lab/no-proposal`` frame 8 (tshark:
``isakmp.notify.msgtype == 14``) refuses the IKE_SA_INIT of SPIi 04623955afb040bc with
NO_PROPOSAL_CHOSEN; in ``lab/psk-aes256-sha256-modp2048`` charon's logs name the IKE proposal
AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048 (truth.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lab_support import LAB

from ikeview.batch import SCHEMA, run_batch
from ikeview.cli import main

PSK = LAB / "psk-aes256-sha256-modp2048"
NOPROP = LAB / "no-proposal"
AUTHFAIL = LAB / "auth-failed"


def _frames(ds: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(ds / f"{name}.parquet") for name in SCHEMA}


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in SCHEMA:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "ds"
    code = main(
        [
            "batch",
            str(NOPROP),
            str(PSK),
            str(AUTHFAIL / "capture.pcap"),
            "--keys",
            str(PSK / "keys.toml"),
            "--out",
            str(out),
            "--csv",
        ]
    )
    assert code == 0
    return out


def test_every_table_written_with_its_columns(local: Path) -> None:
    for name, cols in SCHEMA.items():
        assert list(pd.read_parquet(local / f"{name}.parquet").columns) == list(cols)
        assert list(pd.read_csv(local / f"{name}.csv").columns) == list(cols)
    assert not list(local.glob(".ikeview-batch-*")), "temporary directory left behind"


def test_directory_walk_takes_captures_only(local: Path) -> None:
    caps = pd.read_parquet(local / "captures.parquet")
    names = [Path(c).relative_to(LAB).as_posix() for c in caps["capture"]]
    # keys.toml, truth.json and the logs beside the captures are skipped; order is as given.
    assert names == [
        "no-proposal/capture.pcap",
        "psk-aes256-sha256-modp2048/capture-esp-raw.pcap",
        "psk-aes256-sha256-modp2048/capture.pcap",
        "auth-failed/capture.pcap",
    ]
    assert caps["error"].isna().all()


def test_no_proposal_chosen_by_peer(local: Path) -> None:
    ex = pd.read_parquet(local / "exchanges.parquet")
    refused = ex[ex["error"] == "NO_PROPOSAL_CHOSEN"]
    init = refused[refused["exchange"] == "IKE_SA_INIT"]
    assert list(init["ike_sa"]) == ["04623955afb040bc/0000000000000000"]
    assert list(init["response_frame"]) == [8]
    f = pd.read_parquet(local / "findings.parquet")
    hit = f[(f["ike_sa"] == "04623955afb040bc/0000000000000000")]
    assert "no-proposal-chosen" in set(hit["code"])
    sas = pd.read_parquet(local / "ike_sas.parquet")
    row = sas[sas["ike_sa"] == "04623955afb040bc/0000000000000000"].iloc[0]
    assert row["outcome"] == "failed"
    assert "no-proposal-chosen" in row["finding_codes"].split(",")


def test_decrypted_sa_and_esp(local: Path) -> None:
    truth = json.loads((PSK / "truth.json").read_text())["ike_sas"][0]
    sas = pd.read_parquet(local / "ike_sas.parquet")
    cap = str(PSK / "capture.pcap")
    row = sas[(sas["capture"] == cap) & (sas["spi_i"] == truth["spi_i"])].iloc[0]
    assert row["proposal"] == truth["proposal"]
    assert row["outcome"] == "established"
    assert bool(row["auth_i_verified"]) and bool(row["auth_r_verified"])
    esp = pd.read_parquet(local / "esp.parquet")
    mine = esp[esp["capture"] == cap]
    assert set(mine["direction"]) == {"to-initiator", "to-responder"}
    assert (mine["decrypted"] == mine["packets"]).all() and mine["packets"].sum() > 0


def test_unreadable_captures_are_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    gone = tmp_path / "missing.pcapng"
    frames, written = run_batch([bad, gone, NOPROP / "capture.pcap"], tmp_path / "ds")
    caps = frames["captures"]
    assert list(caps["error"].isna()) == [False, False, True]
    assert "not a pcap or pcapng" in caps["error"][0]
    assert len(frames["ike_sas"]) == 2
    assert {p.name for p in written} == {f"{n}.parquet" for n in SCHEMA}


def test_damaged_captures_say_where_reading_stopped(tmp_path: Path) -> None:
    """A capture cut two thirds in is a row like any other, its counts those of what was read,
    and ``damage`` says where reading stopped, in report's words; a whole one has none."""
    data = (PSK / "capture.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    frames, _ = run_batch([cut, PSK / "capture.pcap"], tmp_path / "ds")
    caps = frames["captures"].set_index("capture")
    report = json.loads(_report_json(cut))
    (damage,) = [p["text"] for p in report["problems"] if "capture file damaged" in p["text"]]
    assert caps.loc[str(cut), "damage"] == damage
    assert caps.loc[str(cut), "frames"] == report["counters"]["frames"]
    assert pd.isna(caps.loc[str(PSK / "capture.pcap"), "damage"])


def _report_json(capture: Path) -> str:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "ikeview", "report", str(capture), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return run.stdout


def test_jobs_give_the_same_dataset(local: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    assert (
        main(
            [
                "batch",
                str(NOPROP),
                str(PSK),
                str(AUTHFAIL / "capture.pcap"),
                "--keys",
                str(PSK / "keys.toml"),
                "--out",
                str(out),
                "--jobs",
                "2",
            ]
        )
        == 0
    )
    _assert_same(_frames(local), _frames(out))


def test_dask_cluster_gives_the_same_dataset(local: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        out = tmp_path / "ds"
        code = main(
            [
                "batch",
                str(NOPROP),
                str(PSK),
                str(AUTHFAIL / "capture.pcap"),
                "--keys",
                str(PSK / "keys.toml"),
                "--out",
                str(out),
                "--dask",
                cluster.scheduler_address,
            ]
        )
        assert code == 0
    _assert_same(_frames(local), _frames(out))


def test_config_checks_become_findings(tmp_path: Path) -> None:
    """The responder's swanctl.conf of lab/no-proposal has no proposal matching the second
    IKE_SA_INIT's offer (its log: 'no acceptable proposal found'; frame 8 NO_PROPOSAL_CHOSEN)."""
    conf = LAB / "scenarios" / "no-proposal" / "responder" / "swanctl.conf"
    frames, _ = run_batch([NOPROP / "capture.pcap"], tmp_path / "ds", config_paths=[conf])
    f = frames["findings"]
    mine = f[(f["ike_sa"] == "04623955afb040bc/0000000000000000") & (f["source"] != "diagnosis")]
    assert list(mine["source"]) == [f"config:{conf}"]
    assert list(mine["code"]) == ["config-proposal-mismatch"]
