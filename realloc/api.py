"""realloc as a library: the calls behind the commands, for notebooks and other code.

Every orchestration decision a command makes lives here (which market paths a stochastic plan
draws, what a plan folder may replace, when the board report is staged with the plan), so the
command line and a Python caller get the same plan from the same inputs. Example::

    import realloc

    portfolio = realloc.load("my_portfolio/gigawatt_miner.yaml")
    base = realloc.plan(portfolio)
    bear = realloc.plan(portfolio.with_changes({"market.btc_price_usd": {"scale": 0.8}}))
    print(base.value_usd - bear.value_usd)
    base.tables["conversions"]          # pandas DataFrames, as the CSV files
    base.write("out", report=True)      # the same folder `realloc plan --report` writes

Errors in the inputs raise :class:`realloc.InputError` (its message names the file, line and
field, and the fix), exactly as the command line prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from realloc.arguments import (
    Progress,
    _as_path,
    _checked,
    _input_errors,
    _quiet,
    _report_formats,
)
from realloc.inputs import InputError, load_portfolio
from realloc.inputs.examples import example_dir, example_path
from realloc.models import Portfolio as _BasePortfolio
from realloc.optimizer import PlanResult, SolverOptions, StochasticAnalysis

DEFAULT_FRONTIER = (0.0, 0.25, 0.5, 0.75, 1.0)


class Portfolio(_BasePortfolio):
    """A validated portfolio (:class:`realloc.models.Portfolio`) that makes what-if copies.

    What-ifs are copies with changes, never mutation: the portfolio is frozen.
    """

    @_input_errors
    def with_changes(self, changes: Mapping[str, Any]) -> Portfolio:
        """A copy with ``changes`` applied, in the path and override language of variant files.

        ``changes`` maps a dotted path to a new value or an operation: ``{"market.btc_price_usd":
        {"scale": 0.8}, "contracts[Anvil Labs (15 yr, min 80 MW)].rate_usd_per_kw_month": 150,
        "sites[*].grid_mw": {"add": 10}}``. The copy is validated like a loaded portfolio; a bad
        path or value raises :class:`InputError` naming it (with a "did you mean").
        """
        from realloc.inputs.overrides import (
            OverrideError,
            apply_overrides,
            parse_override,
            portfolio_data,
            validate_portfolio,
        )

        if not isinstance(changes, Mapping):
            raise InputError(f"with_changes: give a mapping of path to change, not {changes!r:.40}")
        try:
            overrides = [parse_override(str(path), raw) for path, raw in changes.items()]
            changed = validate_portfolio(apply_overrides(portfolio_data(self), overrides))
        except OverrideError as e:
            raise InputError(f"with_changes: {e}") from None
        return _as_api_portfolio(changed)


def _as_api_portfolio(portfolio: _BasePortfolio) -> Portfolio:
    """The same validated portfolio as a :class:`Portfolio` (no second validation)."""
    if isinstance(portfolio, Portfolio):
        return portfolio
    return Portfolio.model_construct(**dict(portfolio))


@_input_errors
def load(path: Path | str | None = None, *, data_root: Path | str | None = None) -> Portfolio:
    """Load and validate a portfolio (YAML or Excel); the bundled example when ``path`` is None.

    ``data_root``: one more folder whose files the portfolio may name (CSV series, a forecast
    spec); without it only files inside the portfolio's own folder tree are read.
    """
    source = _as_path(path, "path") if path is not None else example_path()
    root = _as_path(data_root, "data_root") if data_root is not None else None
    return _as_api_portfolio(load_portfolio(source, root))


@dataclass
class Plan:
    """A solved, verified plan: its status, value, summary, tables, and how to write it."""

    result: PlanResult
    """Everything the optimizer returned (tables, verification, solver facts)."""
    analysis: StochasticAnalysis | None = None
    """A stochastic plan's frontier, VSS and EVPI (None otherwise, or with no frontier)."""
    source: Path | None = None
    """The portfolio file the plan came from (named in run.json), when there was one."""
    source_sha256: str | None = None
    """SHA-256 of that file's bytes, read once with realloc's bounded reader."""
    market_paths: list | None = None
    """The market paths a stochastic plan was made over (None: the portfolio's own market)."""
    market_source: dict | None = None
    """Where those paths came from (the forecast spec, whole, with its seed and path count),
    recorded in run.json for ``realloc evaluate``; None for named scenarios."""
    saa: dict | None = None
    """With replications: the optimality-gap bounds (summary.json's ``saa`` block)."""
    _summary: dict | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """optimal | unfunded | infeasible | time_limit."""
        return self.result.status

    @property
    def value_usd(self) -> float | None:
        """The plan's value (expected over market paths for a stochastic plan)."""
        return self.result.value_usd

    @property
    def baseline_value_usd(self) -> float | None:
        """The status quo's value on the same market."""
        return self.result.baseline_value_usd

    @property
    def uplift_usd(self) -> float | None:
        return self.result.uplift_usd

    @property
    def summary(self) -> dict:
        """The content of summary.json."""
        if self._summary is None:
            from realloc.reports.plan_files import summary_dict

            self._summary = summary_dict(self.result, self.analysis)
        return self._summary

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan's tables by file name without ``.csv`` (empty when no plan was found)."""
        t = self.result.tables
        if t is None:
            return {}
        tables = {
            "plan": t.plan,
            "treasury": t.treasury,
            "conversions": t.conversions,
            "contracts": t.contracts,
            "rig_sales": t.rig_sales,
            "cashflows": t.cashflows,
            "shadow_prices": t.shadow_prices,
            "verification": pd.DataFrame(self.result.verification.as_records()),
        }
        if self.result.baseline_cashflows is not None:
            tables["baseline_cashflows"] = self.result.baseline_cashflows
        if self.result.status == "unfunded":
            tables["funding_gap"] = t.funding_gap
        if self.result.scenario_values is not None:
            tables["scenario_values"] = self.result.scenario_values
        if t.funding is not None:
            tables["funding"] = self.funding
        return tables

    @property
    def funding(self) -> pd.DataFrame | None:
        """funding.csv's table: every source of cash by month (None without ``financing``;
        no ``scenario`` column for a one-path plan, as written)."""
        f = self.result.funding
        if f is None or f["scenario"].nunique() > 1:
            return f
        return f.drop(columns="scenario")

    def to_pulp(self):
        """The plan's model as a PuLP problem (maximize value) to inspect, export
        (``.writeLP``, ``.writeMPS``) or extend and solve with any PuLP solver.

        realloc builds its model as arrays and hands them to HiGHS in memory; PuLP is the CBC
        path and this export. The problem is rebuilt from the portfolio with the plan's
        settings: the same columns, rows and names the solve used. Money is in $M inside the
        model (coefficients near 1 suit the solver), so the objective is the value in $M.
        """
        from realloc.optimizer.build import build_model
        from realloc.optimizer.index import build_index

        index = build_index(self.result.portfolio, self.market_paths)
        return build_model(index, relax=self.result.relaxed, risk=self.result.risk).prob

    @_input_errors
    def write(
        self,
        out_dir: Path | str,
        *,
        replace: bool = False,
        report: bool = False,
        same_input: bool = False,
        progress: Progress = _quiet,
    ) -> Path:
        """Write the plan folder (the files of ``realloc plan``) and, with ``report``, the board
        report inside it, swapped in at once.

        ``out_dir`` may be new, empty, or a plan folder realloc wrote; ``replace`` also allows
        another kind of realloc output; ``same_input`` allows only a plan of the same portfolio
        (the CLI's default ``out``). A folder realloc did not write is never replaced
        (:class:`InputError`). Raises ``PdfPrintError`` after writing everything else when
        Chromium fails to print the PDF.
        """
        from realloc.reports.atomic import OutputSpec, check_output_folder
        from realloc.reports.plan_files import write_plan

        out = _as_path(out_dir, "out_dir")
        spec = OutputSpec("plan", self.source, same_input=same_input, replace=replace)
        check_output_folder(out, spec)
        failed: list[Exception] = []
        then = _report_into_stage(out, progress, failed) if report else None
        write_plan(
            self.result, out, source=self.source, analysis=self.analysis, spec=spec, then=then,
            source_sha256=self.source_sha256, facts=_facts(self.market_source),
            extra_summary={"saa": self.saa} if self.saa else None,
        )  # fmt: skip
        if failed:
            raise failed[0]
        return out

    @_input_errors
    def report(
        self,
        out_dir: Path | str,
        *,
        formats: Sequence[str] | None = None,
        paper: str = "a4",
    ) -> dict[str, Path]:
        """Write the plan into ``out_dir`` (as :meth:`write`) and its board report beside it;
        return the report files by format. ``formats``: html, xlsx, pdf (default: every format
        this machine can write)."""
        formats = _report_formats(formats)  # before the plan is written
        out = self.write(out_dir)
        return build_report(out, formats=formats, paper=paper)


def _facts(market_source: dict | None) -> dict | None:
    """run.json's record of the market paths a plan was fitted on (None: nothing to add)."""
    return {"market_paths": market_source} if market_source is not None else None


def _report_into_stage(out: Path, progress: Progress, failed: list[Exception]):
    """The board report built into the staged plan folder (one swap for both); a PDF that
    Chromium fails to print is kept in ``failed`` so the plan and other formats still land."""
    from realloc.reports.board import PdfPrintError, choose_formats
    from realloc.reports.board import build_report as build

    formats, warning = choose_formats(None)
    if warning:
        progress(f"warning: {warning}")

    def then(stage: Path) -> None:
        try:
            files = build(stage, stage, formats)
        except PdfPrintError as e:
            failed.append(e)
            return
        progress(f"board report: {', '.join(str(out / f.name) for f in files.values())}")

    return then


@_input_errors
def build_report(
    run_dir: Path | str,
    out_dir: Path | str | None = None,
    *,
    formats: Sequence[str] | None = None,
    paper: str = "a4",
    allow_edited: bool = False,
    progress: Progress = _quiet,
    evaluation: Path | str | None = None,
) -> dict[str, Path]:
    """The board report of a plan folder (``realloc report``), into ``out_dir`` or the plan
    folder itself; returns the files by format. ``evaluation``: a ``realloc evaluate`` folder
    of this plan, for the section on paths it was not fitted to. Either way it is staged and
    swapped in at once, so the old folder stays whole until the new one is.

    A folder whose files differ from the hashes ``run.json`` recorded is refused before any
    rendering (a report that renders would present edited figures as realloc's), unless
    ``allow_edited`` says the user means it."""
    from realloc.inputs.files import cut
    from realloc.reports.atomic import OutputSpec, OutputWriteError, check_output_folder, staged_dir
    from realloc.reports.board import PdfPrintError, choose_formats
    from realloc.reports.board import build_report as build
    from realloc.reports.board.data import NotARunFolder, load_run
    from realloc.reports.plan_files import edited_files

    if str(paper).lower() not in ("a4", "letter"):
        raise InputError(f"paper must be a4 or letter, not {paper!r:.40}")
    chosen, warning = choose_formats(_report_formats(formats))
    if warning:
        progress(f"warning: {warning}")
    run_dir = _as_path(run_dir, "run_dir")
    load_run(run_dir)  # NotARunFolder (with its own hint) before anything is staged
    _refuse_edited(run_dir, allow_edited, progress)
    if evaluation is not None:
        from realloc.reports.board.evaluation_section import load_evaluation

        evaluation = _as_path(evaluation, "evaluation")
        load_evaluation(evaluation, run_dir)
    out = _as_path(out_dir, "out_dir") if out_dir is not None else None
    in_place = out is None or (out.exists() and out.resolve() == run_dir.resolve())
    target = run_dir if in_place else out
    if in_place:  # a copy of the plan folder plus the report; the folder must be realloc's
        owner = check_output_folder(run_dir, OutputSpec("plan"))
        source = Path(owner.source) if owner is not None and owner.source else None
        spec = OutputSpec("plan", source)
    else:
        spec = OutputSpec("report", run_dir)
    rebuilt = {f"report.{f}" for f in chosen} | ({"report.html"} if "pdf" in chosen else set())
    with staged_dir(target, spec, keep_current=in_place, drop=rebuilt) as stage:
        try:
            files = build(run_dir, stage, chosen, paper=paper.lower(), evaluation=evaluation)
        except (PdfPrintError, OutputWriteError):
            raise
        except Exception as e:
            edited = edited_files(run_dir)
            if not edited:
                raise  # the folder is as realloc wrote it: a bug, reported as one
            raise NotARunFolder(
                f"{run_dir}: {', '.join(edited[:5])} changed since `realloc plan` wrote "
                f"{'them' if len(edited) > 1 else 'it'} (the report failed on it: "
                f"{type(e).__name__}: {cut(e, 80)}); rerun realloc plan for this folder"
            ) from None
    return {k: target / f.name for k, f in files.items()}


def _refuse_edited(run_dir: Path, allow_edited: bool, progress: Progress) -> None:
    """Refuse a plan folder whose files differ from run.json's hashes (a report would show
    figures realloc did not compute), unless ``allow_edited``: then warn."""
    from realloc.reports.board.data import NotARunFolder
    from realloc.reports.plan_files import edited_files

    edited = edited_files(run_dir)
    if edited and not allow_edited:
        raise NotARunFolder(
            f"{run_dir}: {', '.join(edited[:5])} changed since `realloc plan` wrote "
            f"{'them' if len(edited) > 1 else 'it'}, so a report would show figures realloc did "
            "not compute; rerun realloc plan for this folder, or pass --allow-edited to report "
            "the edited figures"
        )
    if edited:
        progress(f"warning: reporting edited files: {', '.join(edited[:5])}")


def _resolve_portfolio(
    portfolio: _BasePortfolio | Path | str | None, data_root: Path | str | None, progress: Progress
) -> tuple[_BasePortfolio, Path | None]:
    """The portfolio and its file (None for an object); notes on what the plan will decline."""
    if isinstance(portfolio, _BasePortfolio):
        p, source = portfolio, None
    else:
        source = _as_path(portfolio, "portfolio") if portfolio is not None else example_path()
        progress(f"loading {source}")
        p = load(source, data_root=data_root)
    for note in p.unservable_contracts():
        progress(f"note: {note}")
    return p, source


@_input_errors
def plan(
    portfolio: _BasePortfolio | Path | str | None = None,
    *,
    solver: str = "highs",
    relax: bool = False,
    time_limit_s: float | None = None,
    mip_gap: float = 1e-4,
    forecast: Path | str | None = None,
    stochastic: bool = False,
    paths: int | None = None,
    scenarios: Path | str | None = None,
    cvar_alpha: float | None = None,
    risk_weight: float | None = None,
    frontier: Sequence[float] | None = None,
    replications: int | None = None,
    evaluation_paths: int | None = None,
    data_root: Path | str | None = None,
    progress: Progress = _quiet,
    rent_check: bool = True,
) -> Plan:
    """Plan a portfolio (an object, a file, or the bundled example when None).

    Deterministic by default; ``forecast`` (a forecast spec file) replaces the market with the
    mean of its paths. ``stochastic`` plans over ``paths`` market paths drawn from
    ``forecast``, else the portfolio's own ``market.forecast``, else the bundled
    ``forecast_base.yaml``; ``scenarios`` (a market-scenario file) gives named paths instead.
    ``risk_weight`` λ weighs CVaR at ``cvar_alpha``; ``frontier`` lists the λ re-solved for the
    efficient frontier, VSS and EVPI (empty: none of them). Defaults: 50 paths, α 0.95, λ 0,
    frontier 0, 0.25, 0.5, 0.75, 1. These four shape a plan over market paths only: given to a
    deterministic plan they raise :class:`InputError` rather than being ignored.

    ``rent_check``: a deterministic plan is planned once more without the rent after the
    horizon, and the decisions that differ are recorded (optimizer/without_rent.py; no figure
    changes). ``replications`` K adds the optimality-gap bounds (``Plan.saa``).
    """
    over_paths = stochastic or scenarios is not None
    _refuse_path_options(over_paths, paths, cvar_alpha, risk_weight, frontier)
    _refuse_replications(over_paths, replications, evaluation_paths, risk_weight, scenarios)
    if solver not in ("highs", "cbc"):
        raise InputError(f"solver must be highs or cbc, not {solver!r:.40}")
    options = _solver_options(time_limit_s, mip_gap)
    paths, cvar_alpha, risk_weight, frontier = _path_options(
        paths, cvar_alpha, risk_weight, frontier
    )
    forecast, scenarios, data_root = (
        _as_path(v, name) if v is not None else None
        for v, name in ((forecast, "forecast"), (scenarios, "scenarios"), (data_root, "data_root"))
    )
    p, source = _resolve_portfolio(portfolio, data_root, progress)
    sha256 = _file_sha256(source)
    if not over_paths:
        return _plan_deterministic(
            p, source, sha256, forecast, solver, relax, options, progress, rent_check
        )
    made = _plan_stochastic(
        p, source, options, solver, relax, forecast, paths, scenarios, cvar_alpha,
        risk_weight, frontier, data_root, progress,
    )  # fmt: skip
    made.source_sha256 = sha256
    if replications is not None:
        made.saa = _replications(
            made, replications, evaluation_paths, solver, relax, options, progress
        )
    return made


def _plan_deterministic(
    p, source, sha256, forecast, solver, relax, options, progress, rent_check: bool = True
) -> Plan:
    """A plan for one market: the portfolio's own, or the mean path of ``forecast``."""
    from realloc.optimizer import plan_portfolio

    if forecast is not None:
        from realloc.inputs.market_forecast import market_from_spec_file

        p = p.model_copy(update={"market": market_from_spec_file(Path(forecast), p)})
    progress(
        f"planning {p.name}: {len(p.sites)} sites, {len(p.contracts)} contracts, "
        f"{p.months} months ({solver})"
    )
    result = plan_portfolio(p, solver=solver, relax=relax, options=options)
    if rent_check:
        from realloc.optimizer.without_rent import without_rent_after_horizon

        result.without_rent_after_horizon = without_rent_after_horizon(
            result, solver, relax, options
        )
    return Plan(result, None, source, sha256)


def _refuse_replications(over_paths, replications, evaluation_paths, risk_weight, scenarios):
    """Replication options a plan cannot honour, refused before any solve."""
    if not over_paths and (replications is not None or evaluation_paths is not None):
        raise InputError("replications: only for a plan over market paths (stochastic=True)")
    if replications is not None:
        from realloc.replications import check_replications

        weight = 0.0 if risk_weight is None else risk_weight
        check_replications(replications, weight, None if scenarios is not None else {})


def _replications(made, replications, evaluation_paths, solver, relax, options, progress):
    """The optimality-gap bounds of a stochastic plan (realloc/replications.py)."""
    from realloc import options as o
    from realloc.replications import replicate
    from realloc.reports.saa_md import saa_words

    risk = made.result.risk
    m = _checked(
        1000 if evaluation_paths is None else evaluation_paths, o.PATHS, "evaluation_paths"
    )
    if made.result.tables is None:
        raise InputError(f"the stochastic plan is {made.status}: no optimality gap to bound")
    saa = replicate(made.result, made.market_source, risk, solver, relax, options, replications,
                    m, lambda msg: progress(f"  {msg}"))  # fmt: skip
    progress(saa_words(saa))
    return saa


def _solver_options(time_limit_s, mip_gap) -> SolverOptions:
    """The solver's limits, checked by the command line's rules (realloc/options.py)."""
    from realloc import options as o

    if time_limit_s is not None:
        time_limit_s = _checked(time_limit_s, o.TIME_LIMIT, "time_limit_s")
    return SolverOptions(
        time_limit_s=time_limit_s, mip_rel_gap=_checked(mip_gap, o.MIP_GAP, "mip_gap")
    )


def _path_options(paths, cvar_alpha, risk_weight, frontier):
    """Paths, CVaR level, risk weight and frontier with their defaults (50, 0.95, 0, the five
    λ), each checked by the command line's rules; ``frontier`` may be written as --frontier
    takes it ("0,0.5,1" or "none")."""
    from realloc import options as o

    paths = _checked(50 if paths is None else paths, o.PATHS, "paths")
    cvar_alpha = _checked(0.95 if cvar_alpha is None else cvar_alpha, o.SHARE_OPEN, "cvar_alpha")
    risk_weight = _checked(0.0 if risk_weight is None else risk_weight, o.WEIGHT, "risk_weight")
    frontier = DEFAULT_FRONTIER if frontier is None else frontier
    if isinstance(frontier, str):
        frontier = () if frontier.strip().lower() == "none" else frontier.split(",")
    frontier = tuple(_checked(w, o.WEIGHT, "frontier weight") for w in frontier)
    return paths, cvar_alpha, risk_weight, frontier


def _refuse_path_options(over_paths: bool, paths, cvar_alpha, risk_weight, frontier) -> None:
    """A path-only option given to a deterministic plan is an :class:`InputError`: ignored, it
    would let the caller believe the plan holds a risk weight or a path count it does not (the
    command line refuses the same)."""
    given = {"paths": paths, "cvar_alpha": cvar_alpha, "risk_weight": risk_weight,
             "frontier": frontier}  # fmt: skip
    named = [k for k, v in given.items() if v is not None]
    if named and not over_paths:
        raise InputError(
            f"{', '.join(named)}: only for a plan over market paths (stochastic=True or "
            "scenarios=FILE)"
        )


def _file_sha256(source: Path | None) -> str | None:
    """SHA-256 of the portfolio file, read with the same bounds as the loader (a regular file
    of at most 10 MiB), for run.json."""
    if source is None:
        return None
    import hashlib

    from realloc.inputs.files import read_input_bytes

    return hashlib.sha256(read_input_bytes(source)).hexdigest()


def _market_paths(p, source, forecast, paths, scenarios, data_root, progress):
    """The market paths of a stochastic plan, and where they came from."""
    from realloc.inputs.market_scenarios import (
        load_market_scenarios,
        portfolio_forecast_spec,
        scenarios_from_forecast,
    )

    if scenarios is not None:
        found = load_market_scenarios(Path(scenarios), p)
        progress(f"{len(found)} market scenarios from {scenarios}")
        return found
    own = portfolio_forecast_spec(source, data_root) if forecast is None and source else None
    spec = Path(forecast) if forecast is not None else own or example_dir() / "forecast_base.yaml"
    named = "the portfolio's market.forecast" if own is not None else spec
    progress(f"drawing {paths} market paths from {named}")
    return scenarios_from_forecast(spec, p, paths)


def _market_source(p, source, forecast, paths, scenarios, data_root) -> dict | None:
    """What run.json records of a stochastic plan's forecast: the spec whole (so the paths can
    be drawn again, or fresh ones with another seed), the file it came from and the paths."""
    from realloc.inputs.forecast_loader import load_forecast_spec
    from realloc.inputs.market_scenarios import portfolio_forecast_spec

    if scenarios is not None:
        return None
    own = portfolio_forecast_spec(source, data_root) if forecast is None and source else None
    path = Path(forecast) if forecast is not None else example_dir() / "forecast_base.yaml"
    spec = own if own is not None else load_forecast_spec(path)
    return {
        "spec_file": "market.forecast" if own is not None else str(path.resolve()),
        "spec": spec.model_dump(mode="json"),
        "paths": paths,
        "seed": spec.seed,
    }


def _plan_stochastic(
    p, source, options, solver, relax, forecast, paths, scenarios, cvar_alpha, risk_weight,
    frontier, data_root, progress,
) -> Plan:  # fmt: skip
    """The stochastic plan and, unless ``frontier`` is empty, its frontier, VSS and EVPI."""
    from realloc.models.scenarios import RiskSpec
    from realloc.optimizer import analyse, plan_portfolio

    market = _market_paths(p, source, forecast, paths, scenarios, data_root, progress)
    origin = _market_source(p, source, forecast, paths, scenarios, data_root)
    risk = RiskSpec(cvar_alpha=cvar_alpha, risk_weight=risk_weight)
    progress(
        f"planning {p.name} over {len(market)} paths: {len(p.sites)} sites, "
        f"{len(p.contracts)} contracts, {p.months} months, CVaR {cvar_alpha:g}, λ {risk_weight:g}"
    )
    if not frontier:
        result = plan_portfolio(
            p, solver=solver, relax=relax, options=options, scenarios=market, risk=risk
        )
        return Plan(result, None, source, market_paths=market, market_source=origin)
    analysis = analyse(
        p, market, risk, solver=solver, relax=relax, options=options,
        frontier_weights=frontier, progress=lambda msg: progress(f"  {msg}"),
    )  # fmt: skip
    if analysis.vss_usd is not None:
        from realloc.reports.summary_md import money

        progress(f"VSS {money(analysis.vss_usd)}; EVPI {money(analysis.evpi_usd)}")
    for note in analysis.notes:
        progress(f"note: {note}")
    return Plan(analysis.plan, analysis, source, market_paths=market, market_source=origin)
