// The knob table and profiles (guest/spec/knobs.h): parsing, ranges, errors.
#include <gtest/gtest.h>

#include "spec/knobs.h"

namespace nsw = numasoak::nsw;
using nsw::Knob;

TEST(Knobs, DefaultsWithoutAnyNswWord) {
  const auto r = nsw::settings_from_cmdline("console=ttyS0 panic=-1 quiet");
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.settings.profile, "bad-pmd");
  EXPECT_EQ(r.settings.get(Knob::duration), 180);
  EXPECT_TRUE(r.settings.on(Knob::uffd_wp));
  EXPECT_FALSE(r.settings.explicitly_set[static_cast<size_t>(Knob::duration)]);
}

TEST(Knobs, ProfileThenExplicitKnobsWhateverTheOrder) {
  const auto r = nsw::settings_from_cmdline("nsw.uffd_wp=1 nsw.profile=quiet nsw.duration=60 console=ttyS0");
  ASSERT_TRUE(r.ok()) << r.errors[0];
  EXPECT_EQ(r.settings.profile, "quiet");
  EXPECT_TRUE(r.settings.on(Knob::uffd_wp));       // explicit beats the profile's uffd_wp=0
  EXPECT_FALSE(r.settings.on(Knob::move_pages));   // from the profile
  EXPECT_EQ(r.settings.get(Knob::duration), 60);
  EXPECT_TRUE(r.settings.explicitly_set[static_cast<size_t>(Knob::uffd_wp)]);
}

TEST(Knobs, LastValueWins) {
  const auto r = nsw::settings_from_cmdline("nsw.duration=10 nsw.duration=20");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.settings.get(Knob::duration), 20);
}

TEST(Knobs, EveryProfileParsesCleanly) {
  for (const auto& p : nsw::kProfiles) {
    const auto r = nsw::resolve_settings(p.name, {});
    EXPECT_TRUE(r.ok()) << p.name << ": " << (r.errors.empty() ? "" : r.errors[0]);
  }
}

TEST(Knobs, SingleStressorProfiles) {
  auto get = [](const char* p) { return nsw::resolve_settings(p, {}).settings; };
  EXPECT_TRUE(get("bad-pmd").on(Knob::balancing) && get("bad-pmd").on(Knob::move_pages) && get("bad-pmd").on(Knob::uffd_wp));
  EXPECT_TRUE(get("balancing-only").on(Knob::balancing));
  EXPECT_FALSE(get("balancing-only").on(Knob::move_pages) || get("balancing-only").on(Knob::uffd_wp));
  EXPECT_TRUE(get("move-pages-only").on(Knob::move_pages));
  EXPECT_EQ(get("move-pages-only").get(Knob::numa_balancing), 0);
  EXPECT_TRUE(get("uffd-wp-only").on(Knob::uffd_wp));
  EXPECT_FALSE(get("uffd-wp-only").on(Knob::balancing) || get("uffd-wp-only").on(Knob::move_pages));
  const auto quiet = get("quiet");
  EXPECT_TRUE(quiet.on(Knob::integrity));
  EXPECT_FALSE(quiet.on(Knob::balancing) || quiet.on(Knob::move_pages) || quiet.on(Knob::uffd_wp) ||
               quiet.on(Knob::mprotect) || quiet.on(Knob::split_collapse));
}

TEST(Knobs, RangeErrorIsOneClearLine) {
  const auto r = nsw::settings_from_cmdline("nsw.duration=-5");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0],
            "nsw.duration=-5: -5 is out of range [0, 2592000] (workload run time; 0 = until the guest is powered off)");
  EXPECT_EQ(r.errors[0].find('\n'), std::string::npos);
}

TEST(Knobs, ScanSizeZeroIsRejectedButKeepIsFine) {
  EXPECT_NE(nsw::check_knob("scan_size_mb", "0").find("out of range [1, 65536] or -1"), std::string::npos);
  EXPECT_EQ(nsw::check_knob("scan_size_mb", "-1"), "");
  EXPECT_EQ(nsw::check_knob("scan_size_mb", "256"), "");
  EXPECT_NE(nsw::check_knob("duration", "-1"), "");  // -1 means "keep" only for kernel settings
}

TEST(Knobs, TypesAndSyntax) {
  EXPECT_NE(nsw::check_knob("duration", "ten").find("is not an integer"), std::string::npos);
  EXPECT_NE(nsw::check_knob("duration", "10s").find("is not an integer"), std::string::npos);
  EXPECT_NE(nsw::check_knob("duration", "99999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(nsw::check_knob("uffd_wp", "maybe").find("not a boolean"), std::string::npos);
  EXPECT_EQ(nsw::check_knob("uffd_wp", "off"), "");
  EXPECT_EQ(nsw::check_knob("thp", "madvise"), "");
  EXPECT_NE(nsw::check_knob("thp", "sometimes").find("not one of always|madvise|never|keep"), std::string::npos);
  EXPECT_NE(nsw::check_knob("duration", "").find("empty value"), std::string::npos);
  EXPECT_EQ(nsw::check_knob("duration", "\"30\""), "");
}

TEST(Knobs, UnknownKnobSuggestsTheClosest) {
  EXPECT_EQ(nsw::check_knob("dration", "5"), "nsw.dration=5: unknown knob (did you mean 'duration'?)");
  EXPECT_EQ(nsw::check_knob("zzzzzzzzzzzzzz", "5"), "nsw.zzzzzzzzzzzzzz=5: unknown knob");
  EXPECT_EQ(nsw::check_knob("profile", "bad_pmd"), "nsw.profile=bad_pmd: unknown profile (did you mean 'bad-pmd'?)");
}

TEST(Knobs, CommandLineOddities) {
  const auto r = nsw::settings_from_cmdline("nsw.duration nsw.seed=\"7\" numasoak.race_widen_us=200 x=\"a b\"");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "nsw.duration: missing '=<value>'");
  EXPECT_EQ(r.settings.get(Knob::seed), 7);
}

TEST(Knobs, CrossChecks) {
  const auto r = nsw::resolve_settings("bad-pmd", {{"scan_period_min_ms", "500"}, {"scan_period_max_ms", "100"}});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("larger than nsw.scan_period_max_ms=100"), std::string::npos);
  const auto c = nsw::resolve_settings("bad-pmd", {{"region_mb", "4"}, {"uffd_wp_chunk_mb", "8"}});
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_NE(c.errors[0].find("larger than the region"), std::string::npos);
}

TEST(Knobs, HostValidationAndCommandLine) {
  const std::map<std::string, std::string> knobs{{"duration", "60"}, {"uffd_wp", "0"}};
  EXPECT_TRUE(nsw::resolve_settings("bad-pmd", knobs).ok());
  const std::string line = nsw::to_cmdline("bad-pmd", knobs);
  EXPECT_EQ(line, "nsw.profile=bad-pmd nsw.duration=60 nsw.uffd_wp=0");
  const auto back = nsw::settings_from_cmdline("console=ttyS0 " + line);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.settings.get(Knob::duration), 60);
  EXPECT_FALSE(back.settings.on(Knob::uffd_wp));
}

TEST(Knobs, TableIsSane) {
  for (const auto& k : nsw::kKnobs) {
    SCOPED_TRACE(std::string(k.name));
    EXPECT_LE(k.min, k.max);
    EXPECT_FALSE(k.help.empty());
    const bool def_ok = (k.keep && k.def == -1) || (k.def >= k.min && k.def <= k.max);
    EXPECT_TRUE(def_ok);
    if (k.type == nsw::KnobType::kChoice) {
      EXPECT_FALSE(nsw::choice_name(k, k.max).empty());
    }
    EXPECT_EQ(nsw::check_knob(k.name, nsw::format_value(k, k.def)), "");
  }
  EXPECT_EQ(nsw::region_bytes(nsw::resolve_settings("bad-pmd", {{"region_mb", "3"}}).settings), 4u << 20);
}
