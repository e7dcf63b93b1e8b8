//! Where the demo children work: large cities and, in each, the squares,
//! bazaars, shrines and junctions where street-working children are seen
//! (real coordinates, to about 100 m), each with a weight and a [`Trend`]
//! over the demo year.
//!
//! The trends are chosen so that every family of the emerging-hot-spot
//! categories has a place to appear: steady places (persistent), growing
//! ones (intensifying), declining ones (diminishing), places that start only
//! in the last weeks (new), places that stopped half-way (historical) and
//! places that come and go (sporadic / oscillating).

use kudakyar_api::children::Language;

/// How a place's activity changes over the demo year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// The same all year.
    Steady,
    /// Rising from a fifth of the usual level to almost twice it.
    Growing,
    /// Falling from almost twice the usual level to a fifth.
    Declining,
    /// Nothing until the last ~9 weeks, then busy.
    New,
    /// Busy in the first half of the year, nearly nothing since.
    Historical,
    /// Busy some weeks and quiet others.
    Sporadic,
}

impl Trend {
    /// The highest [`Trend::intensity`] of any trend (for rejection sampling).
    pub const MAX: f64 = 2.0;

    /// Relative activity at `t` (0 = a year before the anchor, 1 = the
    /// anchor), in `week` (counted from the start of the year) at a place
    /// whose number is `salt` (so that sporadic places differ).
    pub fn intensity(self, t: f64, week: i64, salt: u64) -> f64 {
        match self {
            Trend::Steady => 1.0,
            Trend::Growing => 0.2 + 1.6 * t,
            Trend::Declining => 1.8 - 1.6 * t,
            Trend::New if t > 0.82 => 2.0,
            Trend::New => 0.02,
            Trend::Historical if t < 0.55 => 1.5,
            Trend::Historical => 0.05,
            Trend::Sporadic => {
                // A fixed mix of the week and the place: on about one week in three.
                let h = (week as u64 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                    .wrapping_mul(0xbf58_476d_1ce4_e5b9);
                if (h >> 29).is_multiple_of(3) {
                    1.8
                } else {
                    0.15
                }
            }
        }
    }
}

/// A place in a city where children work.
#[derive(Debug, Clone, Copy)]
pub struct Spot {
    pub name: &'static str,
    pub lat: f64,
    pub lng: f64,
    /// Share of the city's activity (relative to its other spots).
    pub weight: f64,
    pub trend: Trend,
}

/// A city with its province (ISO 3166-2, used when no boundaries are
/// imported; with boundaries, each spot is placed by them).
#[derive(Debug, Clone, Copy)]
pub struct City {
    pub name: &'static str,
    pub province: &'static str,
    /// Relative size of the city's street-working population.
    pub weight: f64,
    /// A language children there often speak besides Persian or Dari.
    pub local_language: Option<Language>,
    pub spots: &'static [Spot],
}

const fn spot(name: &'static str, lat: f64, lng: f64, weight: f64, trend: Trend) -> Spot {
    Spot {
        name,
        lat,
        lng,
        weight,
        trend,
    }
}

use Trend::*;

/// The cities, largest first.
pub const CITIES: &[City] = &[
    City {
        name: "تهران",
        province: "IR-23",
        weight: 30.0,
        local_language: None,
        spots: &[
            spot("میدان تجریش", 35.8044, 51.4336, 1.0, Steady),
            spot("میدان ونک", 35.7576, 51.4100, 1.2, Growing),
            spot("میدان ولیعصر", 35.7126, 51.4072, 1.5, Steady),
            spot("میدان انقلاب", 35.7010, 51.3915, 1.3, Declining),
            spot("میدان آزادی", 35.6997, 51.3381, 1.0, New),
            spot("میدان امام خمینی", 35.6863, 51.4213, 1.2, Steady),
            spot("بازار تهران", 35.6753, 51.4214, 1.4, Steady),
            spot("میدان راه‌آهن", 35.6596, 51.3980, 1.0, Growing),
            spot("میدان هفت تیر", 35.7157, 51.4263, 0.8, Sporadic),
            spot("میدان صادقیه", 35.7186, 51.3328, 0.8, Historical),
            spot("میدان شوش", 35.6560, 51.4338, 1.1, Growing),
        ],
    },
    City {
        name: "مشهد",
        province: "IR-09",
        weight: 12.0,
        local_language: None,
        spots: &[
            spot("حرم امام رضا", 36.2877, 59.6157, 1.6, Steady),
            spot("میدان شهدا", 36.2983, 59.6063, 1.0, Growing),
            spot("بلوار وکیل‌آباد", 36.3260, 59.5410, 0.7, Declining),
        ],
    },
    City {
        name: "اصفهان",
        province: "IR-10",
        weight: 7.0,
        local_language: None,
        spots: &[
            spot("میدان نقش جهان", 32.6575, 51.6776, 1.2, Steady),
            spot("میدان انقلاب اصفهان", 32.6466, 51.6676, 1.0, Sporadic),
        ],
    },
    City {
        name: "کرج",
        province: "IR-30",
        weight: 6.0,
        local_language: None,
        spots: &[
            spot("میدان شهدای کرج", 35.8327, 50.9916, 1.2, Growing),
            spot("گوهردشت", 35.8220, 50.9400, 0.8, Steady),
        ],
    },
    City {
        name: "شیراز",
        province: "IR-07",
        weight: 6.0,
        local_language: None,
        spots: &[
            spot("ارگ کریمخان", 29.6186, 52.5466, 1.2, Steady),
            spot("دروازه قرآن", 29.6339, 52.5562, 0.6, Declining),
        ],
    },
    City {
        name: "تبریز",
        province: "IR-03",
        weight: 5.0,
        local_language: Some(Language::Azerbaijani),
        spots: &[
            spot("بازار تبریز", 38.0809, 46.2923, 1.2, Steady),
            spot("میدان ساعت", 38.0741, 46.2964, 0.8, New),
        ],
    },
    City {
        name: "اهواز",
        province: "IR-06",
        weight: 5.0,
        local_language: Some(Language::Arabic),
        spots: &[
            spot("پل سفید", 31.3165, 48.6783, 1.0, Growing),
            spot("کیانپارس", 31.3207, 48.6966, 0.7, Steady),
        ],
    },
    City {
        name: "قم",
        province: "IR-25",
        weight: 4.0,
        local_language: None,
        spots: &[spot("حرم حضرت معصومه", 34.6415, 50.8789, 1.0, Steady)],
    },
    City {
        name: "کرمانشاه",
        province: "IR-05",
        weight: 3.0,
        local_language: Some(Language::Kurdish),
        spots: &[spot(
            "میدان آزادی کرمانشاه",
            34.3142,
            47.0650,
            1.0,
            Declining,
        )],
    },
    City {
        name: "زاهدان",
        province: "IR-11",
        weight: 3.0,
        local_language: Some(Language::Balochi),
        spots: &[spot("مرکز شهر زاهدان", 29.4963, 60.8629, 1.0, Growing)],
    },
    City {
        name: "اسلامشهر",
        province: "IR-23",
        weight: 2.0,
        local_language: None,
        spots: &[spot("میدان نماز اسلامشهر", 35.5522, 51.2350, 1.0, Sporadic)],
    },
    City {
        name: "رشت",
        province: "IR-01",
        weight: 2.0,
        local_language: None,
        spots: &[spot("میدان شهرداری رشت", 37.2790, 49.5836, 1.0, Steady)],
    },
    City {
        name: "ارومیه",
        province: "IR-04",
        weight: 2.0,
        local_language: Some(Language::Azerbaijani),
        spots: &[spot("مرکز شهر ارومیه", 37.5527, 45.0761, 1.0, Steady)],
    },
    City {
        name: "کرمان",
        province: "IR-08",
        weight: 2.0,
        local_language: None,
        spots: &[spot("مرکز شهر کرمان", 30.2839, 57.0834, 1.0, Historical)],
    },
    City {
        name: "بندرعباس",
        province: "IR-22",
        weight: 2.0,
        local_language: None,
        spots: &[spot("مرکز شهر بندرعباس", 27.1890, 56.2760, 1.0, Steady)],
    },
    City {
        name: "یزد",
        province: "IR-21",
        weight: 1.5,
        local_language: None,
        spots: &[spot("میدان امیرچخماق", 31.8924, 54.3679, 1.0, Steady)],
    },
    City {
        name: "اراک",
        province: "IR-00",
        weight: 1.5,
        local_language: None,
        spots: &[spot("مرکز شهر اراک", 34.0917, 49.6892, 1.0, Steady)],
    },
    City {
        name: "همدان",
        province: "IR-13",
        weight: 1.5,
        local_language: None,
        spots: &[spot("میدان امام همدان", 34.7983, 48.5147, 1.0, Declining)],
    },
    City {
        name: "قزوین",
        province: "IR-26",
        weight: 1.5,
        local_language: None,
        spots: &[spot("مرکز شهر قزوین", 36.2694, 50.0032, 1.0, Steady)],
    },
    City {
        name: "سنندج",
        province: "IR-12",
        weight: 1.0,
        local_language: Some(Language::Kurdish),
        spots: &[spot("مرکز شهر سنندج", 35.3147, 46.9988, 1.0, Steady)],
    },
];

/// Every spot with its city, in a fixed order, and its share of all
/// activity (city weight × spot weight / the city's spot weights).
pub fn spots() -> Vec<(&'static City, &'static Spot, f64)> {
    let mut out = Vec::new();
    for city in CITIES {
        let total: f64 = city.spots.iter().map(|s| s.weight).sum();
        for s in city.spots {
            out.push((city, s, city.weight * s.weight / total));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_city_is_in_iran_and_every_trend_is_used() {
        for (city, s, share) in spots() {
            assert!(crate::geo::is_province_code(city.province), "{}", city.name);
            assert!((25.0..40.0).contains(&s.lat) && (44.0..64.0).contains(&s.lng));
            assert!(share > 0.0);
        }
        for trend in [Steady, Growing, Declining, New, Historical, Sporadic] {
            assert!(
                spots().iter().any(|(_, s, _)| s.trend == trend),
                "{trend:?}"
            );
        }
    }

    #[test]
    fn trends_rise_fall_and_stay_under_the_maximum() {
        assert!(Growing.intensity(0.9, 47, 1) > 2.0 * Growing.intensity(0.1, 5, 1));
        assert!(Declining.intensity(0.9, 47, 1) < 0.5 * Declining.intensity(0.1, 5, 1));
        assert!(New.intensity(0.5, 26, 1) < 0.1 && New.intensity(0.95, 50, 1) > 1.0);
        let on = (0..52)
            .filter(|&w| Sporadic.intensity(0.5, w, 7) > 1.0)
            .count();
        assert!((5..40).contains(&on), "sporadic weeks on: {on}");
        for trend in [Steady, Growing, Declining, New, Historical, Sporadic] {
            for i in 0..=100 {
                let t = f64::from(i) / 100.0;
                assert!(trend.intensity(t, i64::from(i) / 2, 3) <= Trend::MAX);
            }
        }
    }
}
