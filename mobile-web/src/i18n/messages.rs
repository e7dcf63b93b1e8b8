//! Every message of the UI in both languages, side by side: one line per
//! message, Persian first, so a message cannot exist in one language only.
//!
//! Vocabulary follows the welfare organization's own usage (مددکار اجتماعی,
//! استان, شهرستان, شماره پرونده). The zero-width non-joiner (U+200C) is
//! written as `\u{200c}` so it stays visible in review. `{}` in a message is
//! replaced by the caller (see the field's doc).

/// Declares [`Strings`] and its two tables from `name: "fa", "en";` lines.
macro_rules! messages {
    ($($(#[$doc:meta])* $name:ident: $fa:expr, $en:expr;)*) => {
        /// The fixed texts of the UI, one field per message.
        pub struct Strings { $($(#[$doc])* pub $name: &'static str,)* }
        /// Persian, the default.
        pub static FA: Strings = Strings { $($name: $fa,)* };
        pub static EN: Strings = Strings { $($name: $en,)* };
    };
}

messages! {
    app_name: "کودک\u{200c}یار",
        "Kudakyar";
    tagline: "سامانهٔ ثبت و پیگیری کودکان کار و خیابان",
        "Registry and follow-up of street-working children";
    loading: "در حال بارگذاری…",
        "Loading…";
    login_title: "ورود به کودک\u{200c}یار",
        "Sign in to Kudakyar";
    username: "نام کاربری",
        "Username";
    password: "گذرواژه",
        "Password";
    show_password: "نمایش گذرواژه",
        "Show password";
    login: "ورود",
        "Sign in";
    logging_in: "در حال ورود…",
        "Signing in…";
    fill_both: "نام کاربری و گذرواژه را وارد کنید.",
        "Enter your username and password.";
    wrong_credentials: "نام کاربری یا گذرواژه نادرست است",
        "Wrong username or password";
    session_expired: "نشست شما به پایان رسیده است؛ لطفاً دوباره وارد شوید.",
        "Your session has ended; please sign in again.";
    logged_out: "از حساب خود خارج شدید.",
        "You have signed out.";
    home_title: "خوش آمدید",
        "Welcome";
    name: "نام",
        "Name";
    role: "نقش",
        "Role";
    province: "استان",
        "Province";
    county: "شهرستان",
        "County";
    whole_country: "سراسر کشور",
        "Whole country";
    logout: "خروج از حساب",
        "Sign out";
    logging_out: "در حال خروج…",
        "Signing out…";
    retry: "تلاش دوباره",
        "Try again";
    stale_user: "ارتباط با سرور برقرار نشد؛ اطلاعات ذخیره\u{200c}شده نمایش داده می\u{200c}شود.",
        "Could not reach the server; showing the saved details.";
    network: "ارتباط با سرور برقرار نشد. اتصال اینترنت را بررسی کنید و دوباره تلاش کنید.",
        "Could not reach the server. Check the internet connection and try again.";
    forbidden: "اجازهٔ انجام این کار را ندارید.",
        "You are not allowed to do this.";
    invalid: "اطلاعات فرستاده\u{200c}شده پذیرفته نشد.",
        "The data sent was not accepted.";
    server: "خطایی در سرور رخ داد. کمی بعد دوباره تلاش کنید.",
        "The server had an error. Try again in a moment.";
    unexpected: "پاسخ غیرمنتظره\u{200c}ای از سرور رسید. کمی بعد دوباره تلاش کنید.",
        "The server gave an unexpected answer. Try again in a moment.";
    request_id: "کد پیگیری",
        "Reference";
    wait_for: "تلاش\u{200c}های ناموفق زیاد بود. لطفاً {} صبر کنید و سپس دوباره تلاش کنید.",
        "Too many failed attempts. Please wait {} and try again.";
    wait_a_moment: "تلاش\u{200c}های ناموفق زیاد بود. لطفاً کمی صبر کنید و سپس دوباره تلاش کنید.",
        "Too many failed attempts. Please wait a moment and try again.";
    wait_button: "{} صبر کنید",
        "Wait {}";
    seconds: "{} ثانیه",
        "{} seconds";
    minutes: "{} دقیقه",
        "{} minutes";
    register_title: "ثبت کودک",
        "Register a child";
    register_lead: "اطلاعات روی همین گوشی ذخیره می\u{200c}شود و هر وقت اینترنت وصل باشد فرستاده می\u{200c}شود.",
        "Saved on this phone first and sent whenever there is internet.";
    given_name: "نام کودک",
        "Child's name";
    family_name: "نام خانوادگی",
        "Family name";
    sex: "جنسیت",
        "Sex";
    sex_male: "پسر",
        "Boy";
    sex_female: "دختر",
        "Girl";
    sex_unknown: "نامشخص",
        "Unknown";
    nationality: "ملیت",
        "Nationality";
    nat_iranian: "ایرانی",
        "Iranian";
    nat_afghan: "افغانستانی",
        "Afghan";
    nat_pakistani: "پاکستانی",
        "Pakistani";
    nat_iraqi: "عراقی",
        "Iraqi";
    nat_other: "سایر",
        "Other";
    nat_stateless: "بی\u{200c}تابعیت",
        "Stateless";
    nat_unknown: "نامشخص",
        "Unknown";
    estimated_age: "سن تقریبی (سال)",
        "Estimated age (years)";
    photo: "عکس کودک",
        "Child's photo";
    iris_left: "تصویر عنبیهٔ چپ",
        "Left iris image";
    iris_right: "تصویر عنبیهٔ راست",
        "Right iris image";
    optional: "اختیاری",
        "optional";
    register_submit: "ثبت و افزودن به صف ارسال",
        "Register and queue for sending";
    /// `{}` is the step's number (of 3).
    step_of: "مرحلهٔ {} از ۳", "Step {} of 3";
    step_next: "بعدی", "Next";
    step_back: "قبلی", "Back";
    step_essentials: "مشخصات اصلی", "Essentials";
    step_eyes: "عنبیه و عکس", "Eyes and photo";
    complete_record: "تکمیل پرونده (اختیاری)", "Complete the record (optional)";
    queued: "{} در صف ارسال ذخیره شد.",
        "{} saved in the outbox.";
    unnamed: "کودک بی\u{200c}نام",
        "Unnamed child";
    bad_age: "سن تقریبی باید عددی بین ۰ و ۲۵ باشد.",
        "The estimated age must be a number from 0 to 25.";
    name_too_long: "نام حداکثر ۱۰۰ نویسه است.",
        "A name has at most 100 characters.";
    store_failed: "ذخیره روی گوشی ممکن نشد. فضای گوشی را بررسی کنید و دوباره تلاش کنید.",
        "Could not save on the phone. Check the phone's storage and try again.";
    sync_pending: "در صف ارسال: {}",
        "Waiting to send: {}";
    sync_none: "همه چیز فرستاده شده است",
        "Everything is sent";
    sync_last: "آخرین ارسال: {}",
        "Last sent: {}";
    sync_never: "هنوز چیزی فرستاده نشده",
        "Nothing sent yet";
    sync_offline: "بدون اینترنت",
        "No internet";
    sync_running: "در حال ارسال…",
        "Sending…";
    sync_now: "ارسال اکنون",
        "Send now";
    sync_error_network: "ارسال ممکن نشد؛ دوباره تلاش می\u{200c}شود.",
        "Could not send; will try again.";
    sync_error_server: "سرور پاسخ نداد ({})؛ دوباره تلاش می\u{200c}شود.",
        "The server did not answer ({}); will try again.";
    sync_error_auth: "نشست شما به پایان رسیده؛ پس از ورود دوباره، صف فرستاده می\u{200c}شود.",
        "Your session has ended; the queue is sent after you sign in again.";
    outbox_title: "ثبت\u{200c}های این گوشی",
        "This phone's records";
    state_pending: "در انتظار ارسال",
        "Waiting to send";
    state_done: "فرستاده شد",
        "Sent";
    state_conflict: "ناسازگاری با سابقهٔ ثبت\u{200c}شده",
        "Conflicts with the stored record";
    state_failed: "پذیرفته نشد",
        "Not accepted";
    registry_code: "کد ثبت",
        "Registry code";
    identity_pending: "هویت در انتظار بررسی سرپرست",
        "Identity awaiting a supervisor's review";
    candidates: "کودکان مشابه (عنبیه)",
        "Similar children (iris)";
    conflict_stored: "سابقهٔ موجود روی سرور: {}",
        "Record on the server: {}";
    add_encounter: "ثبت دیدار امروز در همین مکان",
        "Seen today, here";
    encounter_label: "دیدار: {}",
        "Encounter: {}";
    encounter_queued: "دیدار در صف ارسال ذخیره شد.",
        "Encounter saved in the outbox.";
    sync_refused: "نیازمند بررسی شما: {} (فهرست پایین صفحه)",
        "Needs your review: {} (list below)";
    send_without_iris: "ارسال بدون تصویر عنبیه",
        "Send without the iris images";
    blocked_by: "منتظر «{}» است که پذیرفته نشده؛ آن را بررسی کنید.",
        "Waiting for «{}», which was not accepted; review it.";
    details_removed: "جزئیات پس از ارسال از گوشی پاک شد.",
        "Details were removed from the phone once sent.";
    logout_unsent: "{} مورد هنوز فرستاده نشده است. روی گوشی می\u{200c}ماند و پس از ورود دوبارهٔ شما فرستاده می\u{200c}شود. خارج می\u{200c}شوید؟",
        "{} items are not sent yet. They stay on this phone and are sent when you sign in again. Sign out?";
    no_position: "موقعیت گوشی در دسترس نیست؛ اجازهٔ موقعیت مکانی را بررسی کنید.",
        "The phone's position is not available; check the location permission.";
    // Navigation and language.
    nav_home: "خانه", "Home";
    nav_search: "جستجو", "Search";
    nav_triage: "گزارش\u{200c}ها", "Reports";
    nav_team: "تیم", "Team";
    nav_tasks: "کارها", "Tasks";
    nav_call: "ثبت تماس", "New call";
    nav_atlas: "اطلس", "Atlas";
    nav_inbox: "اعلان\u{200c}ها", "Inbox";
    nav_settings: "تنظیمات", "Settings";
    nav_label: "بخش\u{200c}های برنامه", "Sections";
    /// The button that switches to the *other* language, in that language.
    other_language: "English", "فارسی";
    not_found: "این صفحه پیدا نشد.", "This page was not found.";
    offline_copy: "بدون اینترنت: نسخهٔ ذخیره\u{200c}شده روی گوشی نمایش داده می\u{200c}شود.", "Offline: showing the copy saved on this phone.";
    none: "—", "—";
    save: "ذخیره", "Save";
    // Dates (the Jalali date picker).
    day: "روز", "Day";
    month: "ماه", "Month";
    year: "سال", "Year";
    clear_date: "بدون تاریخ", "No date";
    // Location.
    location: "موقعیت", "Location";
    locate: "گرفتن موقعیت گوشی", "Get the phone's position";
    locating: "در حال یافتن موقعیت…", "Finding the position…";
    /// `{}` is metres in the UI's digits.
    accuracy: "دقت: {} متر", "accuracy: {} m";
    poor_gps: "دقت موقعیت کم است؛ در صورت نیاز موقعیت را دستی وارد کنید.", "The position is imprecise; enter it by hand if needed.";
    enter_position: "وارد کردن دستی موقعیت", "Enter the position by hand";
    latitude: "عرض جغرافیایی", "Latitude";
    longitude: "طول جغرافیایی", "Longitude";
    bad_position: "موقعیت باید عرض و طول جغرافیایی معتبر باشد.", "The position must be a valid latitude and longitude.";
    // Search.
    search_title: "جستجوی کودک", "Find a child";
    search_query: "نام، نام مستعار یا شماره پرونده", "Name, alias or registry code";
    search_submit: "جستجو", "Search";
    search_none: "کودکی پیدا نشد.", "No child found.";
    search_iris_title: "جستجو با عنبیه", "Find by iris";
    identify: "شناسایی", "Identify";
    identifying: "در حال بررسی عنبیه…", "Checking the iris…";
    iris_needs_network: "شناسایی با عنبیه به اینترنت نیاز دارد.", "Identifying by iris needs the internet.";
    iris_pick_one: "دست\u{200c}کم یک تصویر عنبیه انتخاب کنید.", "Choose at least one iris image.";
    match_elsewhere: "پرونده\u{200c}ای مشابه در استانی دیگر هست؛ سرپرست تیم پیگیری می\u{200c}کند.", "A similar record exists in another province; your supervisor will follow up.";
    /// `{}` is the engine's reasons.
    retake: "تصویر عنبیه قابل استفاده نیست؛ دوباره بگیرید: {}", "The iris image is not usable; retake it: {}";
    distance: "فاصله", "distance";
    /// `{}` is a count.
    working_set: "{} کودک از حوزهٔ شما (دیده\u{200c}شده در ۹۰ روز اخیر) روی این گوشی ذخیره است.", "{} children of your area (seen in the last 90 days) are saved on this phone.";
    // The duplicate-candidates screen of a registration.
    dup_title: "کودک مشابه پیدا شد", "A similar child was found";
    dup_lead: "آیا این همان کودک است؟ عکس و شماره پرونده را مقایسه کنید.", "Is this the same child? Compare the photo and registry code.";
    same_child: "همان کودک است", "Same child";
    new_child: "کودک دیگری است", "A different child";
    cancel: "انصراف", "Cancel";
    /// `{}` is a registry code.
    same_child_queued: "دیدار و تصویر عنبیه برای پرونده {} در صف ارسال ذخیره شد.", "The encounter and iris images for record {} are saved in the outbox.";
    // The child profile.
    open_record: "پرونده", "Record";
    not_synced: "این پرونده هنوز به سرور نرسیده است؛ پس از ارسال اینجا دیده می\u{200c}شود.", "This record has not reached the server yet; it shows here once sent.";
    status: "وضعیت", "Status";
    status_active: "فعال", "Active";
    status_referred: "ارجاع\u{200c}شده", "Referred";
    status_in_service: "در حال دریافت خدمت", "In service";
    status_reunified: "بازگشت به خانواده", "Reunified";
    status_closed: "بسته\u{200c}شده", "Closed";
    status_moved_away: "جابه\u{200c}جا شده", "Moved away";
    change_status: "تغییر وضعیت", "Change status";
    reason: "دلیل", "Reason";
    reason_required: "دلیل تغییر وضعیت را بنویسید.", "Write why the status changes.";
    change_queued: "تغییر در صف ارسال ذخیره شد.", "The change is saved in the outbox.";
    age: "سن", "Age";
    /// `{}` is a number of years.
    years: "{} سال", "{} years";
    registered_at: "تاریخ ثبت", "Registered";
    last_seen: "آخرین دیدار", "Last seen";
    photos: "عکس\u{200c}ها", "Photos";
    add_photo: "افزودن عکس", "Add a photo";
    photo_queued: "عکس در صف ارسال ذخیره شد.", "The photo is saved in the outbox.";
    encounters: "دیدارها", "Encounters";
    no_encounters: "هنوز دیداری ثبت نشده است.", "No encounter yet.";
    new_encounter: "ثبت دیدار", "Record an encounter";
    services: "خدمات ارائه\u{200c}شده", "Services given";
    svc_food: "غذا", "Food";
    svc_clothing: "پوشاک", "Clothing";
    svc_medical_referral: "ارجاع پزشکی", "Medical referral";
    svc_school_referral: "ارجاع به مدرسه", "School referral";
    svc_counselling: "مشاوره", "Counselling";
    svc_legal_aid: "کمک حقوقی", "Legal aid";
    svc_other: "سایر", "Other";
    activity: "کار دیده\u{200c}شده", "Work observed";
    work_street_vending: "دستفروشی", "Street vending";
    work_begging: "تکدی\u{200c}گری", "Begging";
    work_waste_picking: "زباله\u{200c}گردی", "Waste picking";
    work_car_window_washing: "شیشه\u{200c}شویی خودرو", "Car window washing";
    work_selling_flowers_or_poems: "گل\u{200c}فروشی و فال\u{200c}فروشی", "Selling flowers or poems";
    work_porter: "باربری", "Porter";
    work_street_music: "نوازندگی خیابانی", "Street music";
    work_shoe_shining: "واکس\u{200c}زنی", "Shoe shining";
    work_other: "سایر", "Other";
    notes: "یادداشت", "Notes";
    next_follow_up: "تاریخ پیگیری بعدی", "Next follow-up";
    referral_title: "ارجاع به مرکز خدمات", "Referral to a service centre";
    suggested_centres: "مراکز پیشنهادی (نزدیک\u{200c}ترین با ظرفیت خالی)", "Suggested centres (nearest with free places)";
    no_centres: "مرکزی با ظرفیت خالی پیدا نشد.", "No centre with free places was found.";
    /// `{}` is kilometres.
    km: "{} کیلومتر", "{} km";
    /// `{}` is a count.
    free_places: "ظرفیت خالی: {}", "free places: {}";
    refer: "ارجاع", "Refer";
    referral_queued: "ارجاع در صف ارسال ذخیره شد.", "The referral is saved in the outbox.";
    referrals: "ارجاع\u{200c}ها", "Referrals";
    ref_sent: "فرستاده\u{200c}شده", "Sent";
    ref_accepted: "پذیرفته\u{200c}شده", "Accepted";
    ref_rejected: "ردشده", "Rejected";
    ref_completed: "انجام\u{200c}شده", "Completed";
    // Choosing between both values of a conflict.
    conflict_title: "این مورد را کس دیگری هم تغییر داده است. کدام مقدار بماند؟", "Someone else changed this too. Which value should stay?";
    /// `{}` is a value.
    keep_stored: "مقدار سرور: {}", "Server's value: {}";
    /// `{}` is a value.
    keep_mine: "مقدار من: {}", "My value: {}";
    apply_choice: "ثبت انتخاب", "Apply my choice";
}
