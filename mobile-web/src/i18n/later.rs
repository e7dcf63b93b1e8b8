//! The texts of the screens loaded on demand (triage, team, notification
//! settings…), kept out of the app shell.
//!
//! Code behind a split point moves to a chunk, but string literals do not:
//! the splitter leaves every data segment in the main module, so a message
//! written in `messages.rs` costs the shell its bytes even when only a
//! deferred screen shows it. These texts are written here, Persian and
//! English side by side as in `messages.rs`, but compiled into the wasm only
//! on the host (tests): the build ships them as `texts-<hash>.json` (the
//! committed `mobile-web/later-texts.json`, one `[fa, en]` pair per [`L`] in
//! declaration order), named by `<meta name="kudakyar-texts">` in the page,
//! precached by the service worker and fetched by [`load`] before a deferred
//! screen renders (`pages::deferred`). [`l`] then reads them synchronously.
//!
//! The test `json_is_current` fails when the JSON and this table differ;
//! `UPDATE_SNAPSHOTS=1 cargo test -p kudakyar-web` rewrites the JSON.

/// Declares [`L`] and, on the host only, the table of both languages.
macro_rules! later_texts {
    ($($(#[$doc:meta])* $name:ident: $fa:expr, $en:expr;)*) => {
        /// One message of a deferred screen; its index is its place in the JSON.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum L { $($(#[$doc])* $name,)* }
        /// Persian and English of each [`L`], in order.
        #[cfg(not(target_arch = "wasm32"))]
        pub const TABLE: &[[&str; 2]] = &[$([$fa, $en],)*];
    };
}

later_texts! {
    TriageTitle: "گزارش\u{200c}های رسیده", "Reports";
    TriageIntro: "گزارش\u{200c}های مردمی، ۱۲۳ و مددکاران در حوزهٔ شما، تازه\u{200c}ترین در بالا.",
        "Citizen, 123 and worker reports in your area, newest first.";
    FilterState: "وضعیت", "State";
    FilterSource: "منبع گزارش", "Source";
    FilterAll: "همه", "All";
    Apply: "نمایش", "Show";
    NoReports: "گزارشی با این شرایط نیست.", "No report matches.";
    StateNew: "تازه", "New";
    StateAssigned: "واگذارشده", "Assigned";
    StateVisited: "بازدیدشده", "Visited";
    StateLinked: "پیوند به پرونده", "Linked to a child";
    StateDuplicate: "تکراری", "Duplicate";
    StateFalseReport: "گزارش نادرست", "False report";
    SourceCitizen: "گزارش مردمی", "Citizen report";
    SourceHotline: "اورژانس اجتماعی ۱۲۳", "123 hotline";
    SourceWorker: "مددکار", "Outreach worker";
    Children: "تعداد کودکان", "Children";
    AgeBands: "گروه سنی", "Age";
    Activity: "کار", "Work";
    Description: "شرح", "Description";
    Seen: "زمان دیدن", "Seen";
    Place: "محل", "Place";
    OpenMap: "باز کردن در نقشه", "Open in a map app";
    ReporterPhone: "تلفن گزارش\u{200c}دهنده", "Reporter's phone";
    Photo: "عکس گزارش", "The report's photo";
    Flagged: "نیاز به بررسی دوباره", "Needs a second look";
    Receipt: "کد رهگیری", "Receipt";
    History: "روند رسیدگی", "History";
    AssignedTo: "واگذار به", "Assigned to";
    Assign: "واگذاری", "Assign";
    AssignTo: "مددکار یا سرپرست", "Worker or supervisor";
    ChooseWorker: "انتخاب کنید", "Choose";
    Note: "یادداشت (اختیاری)", "Note (optional)";
    Assigned: "گزارش واگذار شد.", "The report was assigned.";
    Close: "بستن گزارش", "Close the report";
    CloseDuplicate: "بستن: تکراری", "Close: duplicate";
    CloseFalse: "بستن: نادرست", "Close: false report";
    Closed: "گزارش بسته شد.", "The report was closed.";
    LinkedChildren: "کودکان پیوندشده", "Linked children";
    OpenChild: "پروندهٔ کودک", "The child's record";
    NoWorkers: "مددکاری در حوزهٔ شما نیست.", "No worker in your area.";
    Back: "بازگشت به فهرست", "Back to the list";
    TriageMap: "نقشهٔ گزارش\u{200c}ها", "Map of the reports";
    More: "بیشتر", "More";
    TeamTitle: "تیم", "Team";
    TeamIntro: "پرونده\u{200c}های باز هر مددکار، سهم بازدیدهای تأییدشده در ۳۰ روز و پیگیری\u{200c}های عقب\u{200c}افتاده.",
        "Each worker's open cases, share of verified visits over 30 days, and overdue follow-ups.";
    TeamDay: "وضعیت روز {}", "As of {}";
    TeamEmpty: "هنوز آماری برای تیم محاسبه نشده است.", "No team figures computed yet.";
    Worker: "مددکار", "Worker";
    OpenCases: "پرونده\u{200c}های باز", "Open cases";
    Visits: "بازدیدها (۳۰ روز)", "Visits (30 days)";
    VerifiedShare: "تأییدشده", "Verified";
    Suppressed: "کمتر از ۵ (پنهان)", "Under 5 (hidden)";
    InboxTitle: "اعلان\u{200c}ها", "Inbox";
    InboxEmpty: "اعلانی ندارید.", "No notifications.";
    ReadAll: "همه خوانده شد", "Mark all read";
    Unread: "تازه", "New";
    Critical: "فوری", "Urgent";
    KindSightingReceived: "گزارش تازه در حوزهٔ شما", "A new report in your area";
    KindSightingAssigned: "گزارشی به شما واگذار شد", "A report was assigned to you";
    KindChildNotSeen: "کودکی ۳۰ روز است دیده نشده", "A child not seen for 30 days";
    KindChildAtRisk: "کودکی در معرض خطر است", "A child at risk";
    KindOther: "اعلان", "Notification";
    ReviewsTitle: "بررسی پرونده\u{200c}های تکراری", "Duplicate review";
    ReviewsEmpty: "پرونده\u{200c}ای برای بررسی نیست.", "Nothing to review.";
    ReasonOffline: "ثبت آفلاین با عنبیهٔ مشابه", "Offline registration with a similar iris";
    ReasonDeclared: "مددکار آن را کودک دیگری دانست", "The worker declared another child";
    ReasonEnrolment: "عنبیهٔ افزوده با پروندهٔ دیگری یکی است", "An added iris matches another record";
    NewerRecord: "پروندهٔ تازه\u{200c}تر", "Newer record";
    OlderRecord: "پروندهٔ قدیمی\u{200c}تر", "Older record";
    OutOfScope: "خارج از حوزهٔ شما (استان {})", "Outside your area (province {})";
    EyeLeft: "چشم چپ", "left eye";
    EyeRight: "چشم راست", "right eye";
    SameChild: "یک کودک است (ادغام)", "Same child (merge)";
    DifferentChildren: "دو کودک متفاوت\u{200c}اند", "Different children";
    Merged: "دو پرونده ادغام شد.", "The records were merged.";
    Dismissed: "هر دو پرونده ماند.", "Both records stay.";
    OpenMerged: "پروندهٔ ادغام\u{200c}شده", "The merged record";
    Encounters: "مواجهه\u{200c}ها", "Encounters";
    LastSeen: "آخرین مواجهه", "Last encounter";
    KindFollowUpDue: "موعد پیگیری رسید", "A follow-up is due";
    KindFollowUpOverdue: "پیگیری عقب افتاده است", "A follow-up is overdue";
    KindIrisReviewOpened: "پرونده\u{200c}ای برای بررسی تکراری", "A possible duplicate to review";
    KindReferralDecided: "پاسخ ارجاع رسید", "A referral was decided";
    KindCentreNearlyFull: "ظرفیت مرکز رو به پایان است", "A centre is nearly full";
    /// The title of a daily digest's push; `{}` is the number it stands for.
    Digest: "{} اعلان تازه", "{} new notifications";
    SettingsTitle: "تنظیمات اعلان\u{200c}ها", "Notification settings";
    SettingsIntro: "آنچه به این گوشی فرستاده می\u{200c}شود و چه وقت. صندوق اعلان\u{200c}ها همیشه همه را دارد.",
        "What reaches this phone, and when. The inbox always has everything.";
    PushTitle: "اعلان فوری روی این دستگاه", "Push notifications on this device";
    PushChecking: "در حال بررسی…", "Checking…";
    PushOn: "اعلان فوری روی این دستگاه روشن است.", "Push notifications are on for this device.";
    PushOff: "اعلان فوری روی این دستگاه خاموش است.", "Push notifications are off for this device.";
    PushEnable: "روشن کردن اعلان فوری", "Turn push notifications on";
    PushDisable: "خاموش کردن اعلان فوری", "Turn push notifications off";
    PushUnsupported: "این مرورگر اعلان فوری را پشتیبانی نمی\u{200c}کند.",
        "This browser does not support push notifications.";
    PushDenied: "اجازهٔ نمایش اعلان به این برنامه داده نشده است؛ آن را در تنظیمات مرورگر بدهید.",
        "Notifications are blocked for this app; allow them in the browser's settings.";
    PushUnreachable: "سرویس اعلان فوری مرورگر در دسترس نیست.",
        "The browser's push service cannot be reached.";
    PushFallback: "اعلان\u{200c}های درون برنامه و پیامک موارد فوری همچنان کار می\u{200c}کنند.",
        "The in-app inbox and the SMS for urgent matters still work.";
    MutedTitle: "این اعلان\u{200c}ها به گوشی فرستاده نشود", "Do not push these";
    MutedHint: "در صندوق اعلان\u{200c}ها می\u{200c}مانند.", "They still reach the inbox.";
    CannotMute: "فوری؛ خاموش\u{200c}شدنی نیست", "Urgent: cannot be muted";
    QuietTitle: "ساعت\u{200c}های سکوت (به وقت تهران)", "Quiet hours (Tehran time)";
    QuietOn: "در این ساعت\u{200c}ها اعلانی نفرست، جز موارد فوری", "No pushes in these hours, except urgent ones";
    QuietFrom: "از ساعت", "From";
    QuietTo: "تا ساعت", "To";
    QuietFriday: "جمعه\u{200c}ها تمام روز سکوت", "Quiet all day on Fridays";
    DigestTitle: "خلاصهٔ روزانه", "Daily digest";
    DigestOn: "روزی یک اعلان به\u{200c}جای یک اعلان برای هر مورد (موارد فوری همان لحظه)",
        "One push a day instead of one each (urgent ones at once)";
    Save: "ذخیرهٔ تنظیمات", "Save the settings";
    Saved: "تنظیمات ذخیره شد.", "Settings saved.";
    PhoneTitle: "تلفن همراه برای پیامک فوری", "Mobile phone for urgent SMS";
    PhoneHint: "اعلان فوری\u{200c}ای که خوانده نشود با پیامک به این شماره می\u{200c}رسد؛ مثلاً ۰۹۱۲۱۲۳۴۵۶۷.",
        "An urgent notification left unread is sent to this number by SMS, e.g. 09121234567.";
    PhoneLabel: "شمارهٔ تلفن همراه", "Mobile number";
    PhoneSave: "ذخیرهٔ شماره", "Save the number";
    PhoneRemove: "حذف شماره", "Remove the number";
    PhoneSaved: "شماره ذخیره شد: {}", "Number saved: {}";
    PhoneRemoved: "شماره حذف شد.", "Number removed.";
    AtlasTitle: "اطلس حضور", "Presence atlas";
    AtlasIntro: "کجا و کی کودکان کار در حوزهٔ شما دیده می\u{200c}شوند: پهنه\u{200c}بندی، نقشهٔ حرارتی و نقاط داغ نوظهور. ارقامِ کمتر از ۵ کودک پنهان می\u{200c}ماند.",
        "Where and when children work in the street in your area: zoning, heat map and emerging hot spots. Figures under 5 children stay hidden.";
    Measure: "شمارش", "Count";
    MeasureChildren: "کودکان", "Children";
    MeasureEncounters: "مواجهه\u{200c}ها", "Encounters";
    MeasureReports: "گزارش\u{200c}ها", "Reports";
    Level: "سطح نقشه", "Map level";
    LevelProvince: "استان", "Province";
    LevelCounty: "شهرستان", "County";
    RangeFrom: "از تاریخ", "From";
    RangeTo: "تا تاریخ", "To";
    Sex: "جنس", "Sex";
    Nationality: "ملیت", "Nationality";
    WorkType: "نوع کار", "Work";
    AgeUnknown: "نامعلوم", "Unknown";
    FilterNote: "جنس، سن، ملیت و نوع کار دربارهٔ کودکان و مواجهه\u{200c}هاست؛ منبع دربارهٔ گزارش\u{200c}ها.",
        "Sex, age, nationality and work describe children and encounters; the source describes reports.";
    MapLabel: "نقشهٔ اطلس حضور", "Atlas map";
    MapFailed: "نقشه بارگذاری نشد؛ اتصال را بررسی کنید.", "The map could not load; check the connection.";
    Layers: "لایه\u{200c}ها", "Layers";
    LayerZones: "پهنه\u{200c}بندی", "Zoning";
    LayerHexes: "نقشهٔ حرارتی (شش\u{200c}ضلعی)", "Heat map (hexagons)";
    LayerHotspots: "نقاط داغ نوظهور", "Emerging hot spots";
    LegendTitle: "راهنمای پهنه\u{200c}بندی", "Zoning legend";
    ZoneLow: "کم", "Low";
    ZoneMedium: "متوسط", "Medium";
    ZoneHigh: "زیاد", "High";
    ZoneCritical: "بحرانی", "Critical";
    ZoneSuppressed: "پنهان (کمتر از ۵ کودک)", "Hidden (under 5 children)";
    ZoneNoData: "بدون داده", "No data";
    ZonesFrozen: "مرز طبقه\u{200c}ها برای این سال ثابت شده است.", "The class breaks are frozen for this year.";
    ZonesNone: "داده\u{200c}ای برای پهنه\u{200c}بندی نیست.", "No figures to zone.";
    Hot: "نقطهٔ داغ {}", "{} hot spot";
    Cold: "نقطهٔ سرد {}", "{} cold spot";
    PatternNew: "تازه", "New";
    PatternConsecutive: "پیاپی", "Consecutive";
    PatternIntensifying: "شدت\u{200c}یابنده", "Intensifying";
    PatternPersistent: "پایدار", "Persistent";
    PatternDiminishing: "کاهنده", "Diminishing";
    PatternSporadic: "پراکنده", "Sporadic";
    PatternOscillating: "نوسانی", "Oscillating";
    PatternHistorical: "تاریخی", "Historical";
    HotspotsNone: "الگوی نوظهوری یافت نشد.", "No emerging pattern found.";
    HotspotsRefused: "تحلیل نقاط داغ هنوز ممکن نیست.", "The hot-spot analysis is not possible yet.";
    Cells: "{} خانه", "{} cells";
    TrendTitle: "روند ماهانه", "Monthly trend";
    TrendLabel: "نمودار روند ماهانه", "Monthly trend chart";
    ExportsTitle: "دریافت داده\u{200c}ها", "Downloads";
    ExportCsv: "جدول (CSV)", "Table (CSV)";
    ExportGeojson: "نقشه (GeoJSON)", "Map (GeoJSON)";
    ExportHexes: "شش\u{200c}ضلعی\u{200c}ها (GeoJSON)", "Hexagons (GeoJSON)";
    ExportSvg: "نقشهٔ چاپی (SVG)", "Printable map (SVG)";
    DownloadFailed: "دریافت فایل ناموفق بود.", "The download failed.";
    ToIndicators: "شاخص\u{200c}های برنامه", "Programme indicators";
    ToAtlas: "اطلس حضور", "Presence atlas";
    IndicatorsTitle: "شاخص\u{200c}های برنامه", "Programme indicators";
    IndicatorsIntro: "ارقام شبانه محاسبه می\u{200c}شود؛ ارقامِ کمتر از ۵ کودک پنهان است.",
        "Computed nightly; figures under 5 children are hidden.";
    IndicatorsEmpty: "هنوز شاخصی محاسبه نشده است.", "No indicator computed yet.";
    CentreLoad: "بار مراکز خدمات", "Centre load";
    Timeliness: "به\u{200c}موقع بودن", "Timeliness";
    Reentry: "بازگشت به خیابان", "Re-entry";
    Cohorts: "پیامد گروه\u{200c}های ثبت", "Registration cohort outcomes";
    CohortQuarter: "فصل ثبت", "Registered in";
    CohortMonths: "{} ماه پس از ثبت", "{} months after";
    Outcome: "پیامد", "Outcome";
    InSchool: "در مدرسه", "In school";
    FigureCentres: "مراکز خدمات", "Centres";
    FigureCapacity: "ظرفیت (پرونده)", "Capacity (files)";
    FigureOpenFiles: "پرونده\u{200c}های پذیرفته\u{200c}شده", "Open files";
    FigureLoadShare: "نسبت بار به ظرفیت", "Load share";
    FigureContactMedian: "نخستین مواجهه تا ثبت، میانه (روز)", "First contact to registration, median (days)";
    FigureContactP90: "نخستین مواجهه تا ثبت، صدک ۹۰ (روز)", "First contact to registration, 90th percentile (days)";
    FigureFollowUpMedian: "ثبت تا نخستین پیگیری، میانه (روز)", "Registration to first follow-up, median (days)";
    FigureFollowUpP90: "ثبت تا نخستین پیگیری، صدک ۹۰ (روز)", "Registration to first follow-up, 90th percentile (days)";
    FigureDue: "پیگیری\u{200c}های سررسیده", "Follow-ups due";
    FigureOnTime: "پیگیری\u{200c}های به\u{200c}موقع", "Follow-ups on time";
    FigureOnTimeShare: "سهم پیگیری به\u{200c}موقع", "On-time share";
    FigureOverdue: "پیگیری\u{200c}های عقب\u{200c}افتاده", "Overdue follow-ups";
    FigureClosed: "پرونده\u{200c}های بسته یا بازگشته به خانواده", "Cases closed or reunified";
    FigureReentered6: "بازگشت به خیابان تا ۶ ماه", "Back in the street within 6 months";
    FigureReentered12: "بازگشت به خیابان تا ۱۲ ماه", "Back in the street within 12 months";
    FigureReentered6Iris: "یافته با اسکن عنبیه (۶ ماه)", "Found by iris (6 months)";
    FigureReentered12Iris: "یافته با اسکن عنبیه (۱۲ ماه)", "Found by iris (12 months)";
    FigureRate6: "نرخ بازگشت ۶ ماهه", "Re-entry rate, 6 months";
    FigureRate12: "نرخ بازگشت ۱۲ ماهه", "Re-entry rate, 12 months";
    ReportTitle: "گزارش فصلی", "Quarterly report";
    ReportQuarter: "فصل", "Quarter";
    ReportDownload: "دریافت گزارش فصلی", "Download the quarterly report";
    ReportHint: "یک صفحهٔ چاپی (HTML) برای جلسهٔ استان.", "One printable page (HTML) for the provincial meeting.";
    EditTitle: "ویرایش پرونده", "Edit the record";
    EditIntro: "هر چه می\u{200c}دانید ثبت کنید؛ همه اختیاری است. بدون اینترنت هم ذخیره و بعد ارسال می\u{200c}شود.",
        "Record what you know; all of it is optional. Saved without internet too, and sent later.";
    EditOpen: "ویرایش همهٔ اطلاعات پرونده", "Edit every field of the record";
    EditSave: "ذخیرهٔ تغییرات", "Save the changes";
    EditQueued: "تغییرات در صف ارسال ذخیره شد.", "The changes were queued to send.";
    EditNothing: "چیزی تغییر نکرده است.", "Nothing has changed.";
    EditFix: "این موارد را درست کنید:", "Please correct:";
    NotRecorded: "ثبت نشده", "Not recorded";
    FatherName: "نام پدر", "Father's name";
    Aliases: "نام\u{200c}های دیگر (هر کدام در یک سطر)", "Other names (one per line)";
    BirthKnown: "تولد", "Birth";
    BirthExact: "تاریخ دقیق", "Exact date";
    BirthYear: "فقط سال", "Year only";
    BirthEstimated: "سن تقریبی", "Estimated age";
    BirthDate: "تاریخ تولد", "Date of birth";
    BirthYearLabel: "سال تولد", "Year of birth";
    EstimatedAge: "سن تقریبی (سال)", "Estimated age (years)";
    Languages: "زبان\u{200c}ها", "Languages";
    LangPersian: "فارسی", "Persian";
    LangDari: "دری", "Dari";
    LangPashto: "پشتو", "Pashto";
    LangAzerbaijani: "ترکی آذربایجانی", "Azerbaijani";
    LangKurdish: "کردی", "Kurdish";
    LangBalochi: "بلوچی", "Balochi";
    LangArabic: "عربی", "Arabic";
    LangOther: "زبان دیگر", "Other";
    NationalCode: "کد ملی", "National code";
    ForeignId: "شمارهٔ کارت آمایش یا گذرنامه", "Amayesh card or passport number";
    WorkTypes: "نوع کار", "Kinds of work";
    Living: "محل و شیوهٔ زندگی", "Living situation";
    LivingWithParents: "با پدر و مادر", "With parents";
    LivingWithRelatives: "با خویشاوندان", "With relatives";
    LivingWithEmployer: "نزد کارفرما", "With an employer";
    LivingAlone: "تنها", "Alone";
    LivingStreet: "در خیابان", "In the street";
    LivingShelter: "در مرکز یا خانهٔ امن", "In a shelter";
    LivingUnknown: "نامعلوم", "Unknown";
    School: "وضعیت تحصیل", "Schooling";
    SchoolEnrolled: "در حال تحصیل", "Enrolled";
    SchoolDropped: "ترک تحصیل", "Dropped out";
    SchoolNever: "هرگز ثبت\u{200c}نام نشده", "Never enrolled";
    SchoolUnknown: "نامعلوم", "Unknown";
    Risks: "نشانه\u{200c}های خطر", "Risks";
    RiskMedical: "نیاز به درمان", "Needs medical care";
    RiskDisability: "معلولیت", "Disability";
    RiskAbuse: "نشانه\u{200c}های آزار", "Signs of abuse";
    RiskSubstance: "تماس با مواد", "Substance exposure";
    Guardian: "سرپرست", "Guardian";
    GuardianName: "نام سرپرست", "Guardian's name";
    GuardianRelation: "نسبت با کودک", "Relation to the child";
    GuardianPhone: "تلفن سرپرست", "Guardian's phone";
    Consent: "رضایت", "Consent";
    ConsentGiven: "رضایت گرفته شد", "Consent was given";
    ConsentBy: "رضایت\u{200c}دهنده (نام سرپرست یا «خود کودک»)", "Given by (the guardian's name, or «the child»)";
    ConsentDate: "تاریخ رضایت", "Date of consent";
    ChildAssent: "کودک خود نیز موافقت کرد", "The child assented too";
    RuleBlank: "خالی است؛ اگر نمی\u{200c}دانید پاکش کنید.", "is blank: clear it if you do not know.";
    RuleTooLong: "بیش از {} نویسه است.", "is longer than {} characters.";
    RuleControl: "نویسهٔ نامعتبر (مثل سطر تازه) دارد.", "has an invalid character (such as a line break).";
    RuleTooMany: "بیش از ۲۰ مورد است.", "has more than 20 entries.";
    RuleDate: "تاریخ معتبر نیست.", "is not a valid date.";
    RuleFuture: "در آینده است.", "is in the future.";
    RuleTooEarly: "بیش از ۲۵ سال پیش است.", "is more than 25 years ago.";
    RuleRequired: "را وارد کنید.", "is required.";
    RuleAge: "باید عددی بین ۰ و ۲۵ باشد.", "must be a number from 0 to 25.";
    RuleNationalCode: "کد ملی معتبر نیست (۱۰ رقم با رقم کنترل درست).", "is not a valid national code (10 digits with a correct check digit).";
    RuleForeignId: "باید ۴ تا ۲۰ حرف لاتین، رقم یا «-» باشد.", "must be 4–20 letters, digits or '-'.";
    RulePhone: "باید ۷ تا ۱۵ رقم باشد (با + در آغاز یا بی آن).", "must be 7–15 digits, optionally starting with +.";
    RuleCode: "معتبر نیست.", "is not valid.";
    VisitTitle: "ثبت بازدید", "Record the visit";
    VisitFound: "کودک پیدا شد", "Found the child";
    VisitNotFound: "کودک پیدا نشد", "Did not find the child";
    VisitDone: "بازدید ثبت شد.", "The visit was recorded.";
    LinkTitle: "پیوند به پروندهٔ کودک", "Link to the child's record";
    Link: "پیوند", "Link";
    LinkDone: "گزارش به پرونده پیوند خورد.", "The report was linked to the record.";
    LinkNoChild: "پرونده\u{200c}ای با این کد پیدا نشد.", "No record has this code.";
    TasksTitle: "کارهای من", "My tasks";
    TasksAsOf: "برای روز {}", "For {}";
    TasksFollowUps: "پیگیری\u{200c}ها", "Follow-ups";
    TasksReports: "گزارش\u{200c}هایی که باید بازدید شوند", "Reports to visit";
    TasksReferrals: "ارجاع\u{200c}های باز", "Open referrals";
    TasksNone: "کاری برای این هفته نیست.", "Nothing to do this week.";
    DueToday: "امروز", "today";
    DaysOverdue: "{} روز گذشته", "{} days overdue";
    DaysLeft: "{} روز دیگر", "in {} days";
    CentresIntro: "پرونده\u{200c}های باز هر مرکز (ارجاع\u{200c}های فرستاده یا پذیرفته) در برابر ظرفیت آن؛ پرترین در بالا.",
        "Each centre's open files (referrals sent or accepted) against its capacity; fullest first.";
    CentresNone: "مرکزی در حوزهٔ شما ثبت نشده است.", "No centre in your area.";
    CentreFiles: "{} پرونده از ظرفیت {}", "{} files of {}";
    CentreNearlyFull: "نزدیک به پر", "nearly full";
    ToCentres: "مراکز خدمات و ظرفیت آن\u{200c}ها", "Service centres and their capacity";
    IncidentTitle: "رخداد", "Incident";
    IncidentIntro: "گزارش\u{200c}های یک محل و یک عصر با هم یک رخداد می\u{200c}شوند و یک بار بازدید می\u{200c}شوند.",
        "Reports of one place and evening make one incident, visited once.";
    IncidentReports: "{} گزارش در این رخداد", "{} reports in this incident";
    OtherReport: "گزارش دیگر این رخداد", "Another report of this incident";
    IncidentSplit: "جدا کردن این گزارش در رخدادی تازه", "Split this report into a new incident";
    IncidentSplitDone: "گزارش در رخدادی تازه جدا شد.", "The report was split into a new incident.";
    IncidentJoinWith: "پیوستن رخدادی دیگر به این رخداد", "Join another incident into this one";
    ChooseIncident: "یک رخداد انتخاب کنید", "Choose an incident";
    IncidentJoin: "پیوستن", "Join";
    IncidentJoinDone: "دو رخداد یکی شد.", "The incidents were joined.";
    CallTitle: "ثبت تماس ۱۲۳", "Record a 123 call";
    CallIntro: "آنچه تماس\u{200c}گیرنده از کودک کار در خیابان می\u{200c}گوید؛ گزارش به صف رسیدگی شهرستان می\u{200c}رود.",
        "What the caller reports of a child working in the street; the report goes to the county's triage queue.";
    CallPlace: "محل (مختصات یا پیوند نقشه)", "Place (coordinates or a map link)";
    CallPlaceHint: "مثلاً ۳۵٫۷۰۰۹، ۵۱٫۳۹۱۲ یا پیوندی که تماس\u{200c}گیرنده فرستاده است.",
        "E.g. 35.7009, 51.3912, or a link the caller shared.";
    CallWhen: "زمان دیدن", "When seen";
    CallNow: "همین حالا", "Just now";
    CallMinutesAgo: "{} دقیقه پیش", "{} minutes ago";
    CallPhone: "تلفن تماس\u{200c}گیرنده (اختیاری)", "Caller's phone (optional)";
    CallConsent: "تماس\u{200c}گیرنده موافق است که با او تماس گرفته شود", "The caller agrees to be called back";
    CallSubmit: "ثبت گزارش تماس", "Record the call";
    CallQueued: "گزارش در صف ارسال ذخیره شد و به صف رسیدگی شهرستان می\u{200c}رود.",
        "The report was queued to send; it goes to the county's triage queue.";
    CallLabel: "تماس ۱۲۳: {} کودک", "123 call: {} children";
    CallBadPlace: "محل خوانده نشد: مختصات یا پیوند نقشه را وارد کنید.", "The place could not be read: enter coordinates or a map link.";
    CallBadCount: "تعداد کودکان باید بین ۱ و ۵۰ باشد.", "The number of children must be 1–50.";
    CallLongText: "شرح بیش از ۱۰۰۰ نویسه است.", "The description is longer than 1000 characters.";
    CallNeedsConsent: "برای نگه\u{200c}داشتن تلفن، موافقت تماس\u{200c}گیرنده لازم است.", "Keeping the phone needs the caller's agreement.";
}

#[cfg(target_arch = "wasm32")]
mod loaded {
    use std::sync::OnceLock;

    /// The fetched table; set once, never changed (a language switch reloads).
    pub static TEXTS: OnceLock<Vec<[String; 2]>> = OnceLock::new();
}

/// The message `key` in the UI language (empty until [`load`] succeeded,
/// which `pages::deferred` awaits before rendering a screen).
pub fn l(key: L) -> &'static str {
    both(key)[usize::from(super::lang() == super::Lang::En)]
}

/// The message `key` in Persian and in English (for the service worker,
/// which shows a push in the user's language without the app: see
/// `crate::push`).
pub fn both(key: L) -> [&'static str; 2] {
    #[cfg(target_arch = "wasm32")]
    let pair = loaded::TEXTS
        .get()
        .and_then(|t| t.get(key as usize))
        .map_or(["", ""], |pair| [pair[0].as_str(), pair[1].as_str()]);
    #[cfg(not(target_arch = "wasm32"))]
    let pair = TABLE[key as usize];
    pair
}

/// Fetches the texts named by the page (from the service worker's cache
/// once installed); true when they are ready.
#[cfg(target_arch = "wasm32")]
pub async fn load() -> bool {
    if loaded::TEXTS.get().is_some() {
        return true;
    }
    let url = leptos::prelude::document()
        .query_selector("meta[name=kudakyar-texts]")
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"));
    let Some(url) = url else { return false };
    let Ok(resp) = gloo_net::http::Request::get(&url).send().await else {
        return false;
    };
    match resp.json::<Vec<[String; 2]>>().await {
        Ok(texts) => {
            let _ = loaded::TEXTS.set(texts);
            true
        }
        Err(_) => false,
    }
}

/// On the host the table is compiled in.
#[cfg(not(target_arch = "wasm32"))]
pub async fn load() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::{L, TABLE, l};

    fn json() -> String {
        let mut out = String::from("[\n");
        for (i, pair) in TABLE.iter().enumerate() {
            let sep = if i + 1 < TABLE.len() { "," } else { "" };
            out.push_str(&format!("{}{sep}\n", serde_json::to_string(pair).unwrap()));
        }
        out.push_str("]\n");
        out
    }

    #[test]
    fn json_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/later-texts.json");
        let want = json();
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "{path} is not the table in later.rs: run UPDATE_SNAPSHOTS=1 cargo test -p kudakyar-web"
        );
    }

    #[test]
    fn every_text_has_both_languages() {
        for pair in TABLE {
            assert!(pair.iter().all(|t| !t.trim().is_empty()), "{pair:?}");
        }
        assert_eq!(l(L::TriageTitle), TABLE[0][0]);
    }
}
