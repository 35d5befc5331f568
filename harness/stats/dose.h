// Dose-response of the race window: how the failure rate grows with the
// width N µs by which the window is widened (a [sweep] campaign, tracker
// issue 15), and what that says about the unwidened window.
//
// Per width: failures k, exposure T hours, race-relevant events E, and the
// rates k/T and k/(E/1e6) with exact Garwood intervals (stats.h's
// poisson_rate; zero failures give a one-sided upper bound).
//
// Model across widths: rate(w) = a * w^b, i.e. k_w ~ Poisson(T_w * a * w^b),
// log rate linear in log width, fitted by Poisson maximum likelihood
// (Newton-Raphson on (log a, b); the Poisson log-linear model with offset
// log T). Widths with 0 failures still contribute their exposure. Width 0
// (window not widened) cannot be on a log-log line and is left out of the
// fit; it is still tabulated. b gets a profile-likelihood interval (for
// fixed b, log a has a closed-form maximum, so the profile is exact and
// cheap); the rate at the natural width w0 gets a Wald interval on the log
// scale from the fit's covariance (delta method).
//
// Pure: values in, values out, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stats/stats.h"

namespace numasoak::stats {

/// The natural (unwidened) race window, in µs: what the fit extrapolates to.
///
/// The window is the few instructions of change_pmd_range() between the
/// two reads of *pmd (pmd_none_or_clear_bad_unless_trans_huge()'s re-read
/// after is_swap_pmd / pmd_trans_huge / pmd_devmap looked at the first):
/// on the order of 10-100 instructions, a paravirt call among them on the
/// XEN_PV code shape. Natively that is tens of nanoseconds; QEMU TCG runs
/// guest code several times slower (translated blocks, helper calls for
/// the pv op and the memory accesses), which puts it at roughly 0.1 µs.
/// An assumption, not a measurement: the report prints it with every
/// extrapolation, and the extrapolated rate scales as w0^b.
inline constexpr double kNaturalWindowUs = 0.1;

/// What was observed at one width (the caller's sum over that width's runs).
struct DoseObservation {
  int width_us = 0;               // 0 = not widened
  int runs = 0;                   // evidence runs (failed + survived)
  std::uint64_t failures = 0;
  double exposure_h = 0;          // hours of workload
  std::optional<double> race_events;  // race-relevant events, when every run counted them
};

/// One width's rates, with exact intervals.
struct DoseRow {
  DoseObservation observed;
  RateEstimate per_hour;
  std::optional<RateEstimate> per_million_events;
};

/// rate(w) = a * w^b fitted by Poisson maximum likelihood.
struct PowerLawFit {
  double a = 0;                   // failures per hour at 1 µs
  double b = 0;                   // the slope on log-log axes
  double b_lower = 0, b_upper = 0;  // profile-likelihood interval at `confidence`
  double log_a_variance = 0;      // inverse observed information (log a, b)
  double covariance = 0;
  double b_variance = 0;
  int iterations = 0;
  std::vector<int> widths_used;   // the widths > 0 with exposure, ascending
  double natural_width_us = kNaturalWindowUs;
  double natural_rate_per_h = 0;  // a * w0^b
  double natural_lower_per_h = 0, natural_upper_per_h = 0;  // delta method on log scale

  double rate_at(double width_us) const;
};

/// The whole dose-response: rows in the caller's order and the fit, or why
/// there is none.
struct DoseResponse {
  double confidence = 0.95;
  std::vector<DoseRow> rows;
  std::optional<PowerLawFit> fit;
  std::string no_fit_reason;      // set when !fit: "no failures at any width", ...
};

/// Rates per width and the power-law fit at `natural_width_us`.
/// Observations with negative exposure or a negative width are programming
/// errors (std::invalid_argument), as everywhere in stats/.
DoseResponse dose_response(std::span<const DoseObservation> observations, double confidence = 0.95,
                           double natural_width_us = kNaturalWindowUs);

/// The fit alone (nullopt with `why` when the data cannot support one: no
/// failures, fewer than two widths > 0 with exposure, or every failure at
/// the narrowest or widest width, where the slope's MLE is unbounded).
std::optional<PowerLawFit> fit_power_law(std::span<const DoseObservation> observations, double confidence,
                                         double natural_width_us, std::string* why);

}  // namespace numasoak::stats
