// The dose-response fit: rate = a * width^b by Poisson maximum likelihood,
// recovered from synthetic data whose a and b are known, and the cases where
// no fit is possible.
#include "stats/dose.h"

#include <gtest/gtest.h>

#include <cmath>

namespace numasoak::stats {
namespace {

// Failures exactly equal to their expectation T * a * w^b: the score is zero
// at the truth, so the MLE must be (a, b) to rounding.
std::vector<DoseObservation> exact(double a, double b, std::vector<int> widths, double hours) {
  std::vector<DoseObservation> out;
  for (int w : widths) {
    const double k = hours * a * std::pow(w, b);
    out.push_back({w, 3, static_cast<std::uint64_t>(std::llround(k)), hours, std::nullopt});
  }
  return out;
}

TEST(Dose, RecoversAKnownPowerLawExactly) {
  // a = 2/h at 1 us, b = 1: 20, 40, 80, 160 failures in 10 h each.
  const auto obs = exact(2.0, 1.0, {1, 2, 4, 8}, 10.0);
  std::string why;
  const auto f = fit_power_law(obs, 0.95, kNaturalWindowUs, &why);
  ASSERT_TRUE(f) << why;
  EXPECT_NEAR(f->a, 2.0, 1e-9);
  EXPECT_NEAR(f->b, 1.0, 1e-9);
  EXPECT_NEAR(f->rate_at(4), 8.0, 1e-8);
  EXPECT_LT(f->b_lower, 1.0);
  EXPECT_GT(f->b_upper, 1.0);
  EXPECT_NEAR(f->natural_rate_per_h, 2.0 * 0.1, 1e-9);
  EXPECT_LT(f->natural_lower_per_h, f->natural_rate_per_h);
  EXPECT_GT(f->natural_upper_per_h, f->natural_rate_per_h);
  EXPECT_EQ(f->widths_used, (std::vector<int>{1, 2, 4, 8}));
}

TEST(Dose, RecoversASteepSlopeFromRoundedCounts) {
  // a = 0.5/h, b = 1.5 over the campaign's widths: counts rounded to whole
  // failures (deterministic, no random draws), many hours so rounding is small.
  const auto obs = exact(0.5, 1.5, {1, 2, 5, 10, 20, 50, 200}, 400.0);
  const auto f = fit_power_law(obs, 0.95, kNaturalWindowUs, nullptr);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->b, 1.5, 1e-3);
  EXPECT_NEAR(f->a, 0.5, 5e-3);
  EXPECT_LT(f->b_lower, 1.5);
  EXPECT_GT(f->b_upper, 1.5);
  // With thousands of failures the profile interval is about the Wald one.
  const double wald = 1.959964 * std::sqrt(f->b_variance);
  EXPECT_NEAR(f->b_upper - f->b, wald, 0.1 * wald);
  EXPECT_NEAR(f->b - f->b_lower, wald, 0.1 * wald);
  EXPECT_NEAR(f->natural_rate_per_h, 0.5 * std::pow(0.1, 1.5), 1e-3 * 0.5 * std::pow(0.1, 1.5));
}

TEST(Dose, WidthsWithoutFailuresStillCountTheirExposure) {
  // Failures at 20 and 50 only; the narrow widths ran for hours without
  // one. Dropping them would flatten the slope; counting them steepens it.
  std::vector<DoseObservation> obs = {{50, 3, 6, 0.075, std::nullopt},
                                      {20, 3, 3, 0.075, std::nullopt},
                                      {5, 3, 0, 0.075, std::nullopt},
                                      {1, 3, 0, 0.075, std::nullopt}};
  const auto with = fit_power_law(obs, 0.95, kNaturalWindowUs, nullptr);
  obs.resize(2);
  const auto without = fit_power_law(obs, 0.95, kNaturalWindowUs, nullptr);
  ASSERT_TRUE(with);
  ASSERT_TRUE(without);
  EXPECT_GT(with->b, without->b);
}

TEST(Dose, WidthZeroIsTabulatedButNotFitted) {
  auto obs = exact(2.0, 1.0, {1, 2, 4, 8}, 10.0);
  obs.push_back({0, 3, 1, 10.0, 1e6});
  const auto d = dose_response(obs);
  ASSERT_EQ(d.rows.size(), 5u);
  EXPECT_EQ(d.rows.back().observed.width_us, 0);
  EXPECT_EQ(d.rows.back().per_hour.failures, 1u);
  ASSERT_TRUE(d.rows.back().per_million_events);
  EXPECT_NEAR(d.rows.back().per_million_events->rate, 1.0, 1e-12);
  ASSERT_TRUE(d.fit);
  EXPECT_NEAR(d.fit->b, 1.0, 1e-9);
}

TEST(Dose, RatesPerWidthAreTheExactPoissonIntervals) {
  const std::vector<DoseObservation> obs = {{200, 3, 3, 0.05, 2e5}, {20, 3, 0, 0.075, 3e5}};
  const auto d = dose_response(obs);
  const auto direct = poisson_rate(3, 0.05, RateUnit::kPerHour, 0.95);
  EXPECT_DOUBLE_EQ(d.rows[0].per_hour.lower, direct.lower);
  EXPECT_DOUBLE_EQ(d.rows[0].per_hour.upper, direct.upper);
  EXPECT_TRUE(d.rows[1].per_hour.upper_bound_only);
  ASSERT_TRUE(d.rows[1].per_million_events);
  EXPECT_TRUE(d.rows[1].per_million_events->upper_bound_only);
  // Every failure at the widest width: the slope is unbounded.
  EXPECT_FALSE(d.fit);
  EXPECT_NE(d.no_fit_reason.find("widest"), std::string::npos) << d.no_fit_reason;
}

TEST(Dose, NoFailuresAtAnyWidthGivesNoFitAndSaysSo) {
  const std::vector<DoseObservation> obs = {{200, 3, 0, 0.075, std::nullopt},
                                            {20, 3, 0, 0.075, std::nullopt},
                                            {0, 3, 0, 0.075, std::nullopt}};
  const auto d = dose_response(obs);
  EXPECT_FALSE(d.fit);
  EXPECT_NE(d.no_fit_reason.find("no failures at any width"), std::string::npos) << d.no_fit_reason;
  EXPECT_EQ(d.rows.size(), 3u);
}

TEST(Dose, OneWidthOnlyGivesNoFit) {
  const std::vector<DoseObservation> obs = {{200, 3, 3, 0.075, std::nullopt}, {0, 3, 0, 0.075, std::nullopt}};
  std::string why;
  EXPECT_FALSE(fit_power_law(obs, 0.95, kNaturalWindowUs, &why));
  EXPECT_NE(why.find("only one width"), std::string::npos) << why;
}

TEST(Dose, FailuresOnlyAtTheNarrowestWidthGiveNoFit) {
  const std::vector<DoseObservation> obs = {{200, 3, 0, 0.075, std::nullopt}, {1, 3, 2, 0.075, std::nullopt}};
  std::string why;
  EXPECT_FALSE(fit_power_law(obs, 0.95, kNaturalWindowUs, &why));
  EXPECT_NE(why.find("narrowest"), std::string::npos) << why;
}

TEST(Dose, FailuresOnlyAtTheMiddleWidthStillFit) {
  // The failures' mean log width is strictly inside the range: finite MLE.
  const std::vector<DoseObservation> obs = {
      {200, 3, 0, 0.075, std::nullopt}, {20, 3, 2, 0.075, std::nullopt}, {1, 3, 0, 0.075, std::nullopt}};
  const auto f = fit_power_law(obs, 0.95, kNaturalWindowUs, nullptr);
  ASSERT_TRUE(f);
  EXPECT_TRUE(std::isfinite(f->b));
  EXPECT_LT(f->b_lower, f->b);
  EXPECT_GT(f->b_upper, f->b);
}

TEST(Dose, BadInputIsAProgrammingError) {
  const std::vector<DoseObservation> negative = {{-1, 1, 1, 1.0, std::nullopt}};
  EXPECT_THROW(fit_power_law(negative, 0.95, kNaturalWindowUs, nullptr), std::invalid_argument);
  const std::vector<DoseObservation> exposure = {{1, 1, 1, -1.0, std::nullopt}};
  EXPECT_THROW(fit_power_law(exposure, 0.95, kNaturalWindowUs, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace numasoak::stats
