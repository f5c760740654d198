"""The Vietnamese catalogue: English text (the key) -> Vietnamese, for every string the bot
says and every command, option and choice name and description."""

VIETNAMESE: dict[str, str] = {
    # Errors from the API
    "The bot's API key was rejected, so I can't answer right now. "
    "Please let the bot's operator know.": "Khóa API của bot bị từ chối nên mình chưa trả lời "
    "được. Hãy báo cho người vận hành bot.",
    "The bot's nexai account is out of credits, so I can't answer right now. "
    "Please let the bot's operator know.": "Tài khoản nexai của bot đã hết tín dụng nên mình "
    "chưa trả lời được. Hãy báo cho người vận hành bot.",
    "The bot's API key is suspended or expired, so I can't answer right now. "
    "Please let the bot's operator know.": "Khóa API của bot đã bị tạm ngưng hoặc hết hạn nên "
    "mình chưa trả lời được. Hãy báo cho người vận hành bot.",
    "nexai is busy right now. Please try again in {seconds} s.": "nexai đang bận. Vui lòng thử "
    "lại sau {seconds} giây.",
    "nexai is busy right now. Please try again in a minute.": "nexai đang bận. Vui lòng thử "
    "lại sau một phút.",
    "nexai had an internal error. Sorry! Please try again in a moment.": "nexai gặp lỗi nội "
    "bộ. Xin lỗi bạn! Vui lòng thử lại sau giây lát.",
    "nexai took too long to answer. Please try again, perhaps with a shorter prompt.": "nexai "
    "phản hồi quá lâu. Vui lòng thử lại, có thể với câu hỏi ngắn hơn.",
    "I couldn't reach nexai. Please try again in a moment.": "Mình không kết nối được với "
    "nexai. Vui lòng thử lại sau giây lát.",
    "nexai sent an answer I couldn't read. Please try again.": "nexai gửi về một câu trả lời "
    "mình không đọc được. Vui lòng thử lại.",
    "nexai refused the request: {reason}": "nexai từ chối yêu cầu: {reason}",
    "Something went wrong on my side. Please try again.": "Có lỗi xảy ra phía mình. Vui lòng "
    "thử lại.",
    "I couldn't save or read my data just now. Please try again in a moment.": "Mình chưa "
    "lưu hoặc đọc được dữ liệu của mình lúc này. Vui lòng thử lại sau giây lát.",
    "⚠️ The answer was cut off before it finished.": "⚠️ Câu trả lời bị ngắt giữa chừng.",
    "📄 The whole answer is in answer.md.": "📄 Toàn bộ câu trả lời nằm trong answer.md.",
    "✂️ The answer reached its length limit. Ask me to continue.": "✂️ Câu trả lời đã chạm giới "
    "hạn độ dài. Hãy bảo mình viết tiếp.",
    "⚠️ The model spent its whole token budget reasoning and wrote no answer. "
    "Try a narrower question.": "⚠️ Mô hình đã dùng hết ngân sách token để suy luận và chưa viết "
    "câu trả lời. Hãy thử một câu hỏi hẹp hơn.",
    "⚠️ nexai's content filter stopped the answer here.": "⚠️ Bộ lọc nội dung của nexai đã dừng "
    "câu trả lời ở đây.",
    "Thinking… {seconds} s": "Đang nghĩ… {seconds} giây",
    "Reasoning… {seconds} s": "Đang suy luận… {seconds} giây",
    "nexai did not answer in time ({seconds} s). Please try again in a moment.": "nexai không "
    "trả lời kịp ({seconds} giây). Vui lòng thử lại sau giây lát.",
    "The model `{model}` isn't available on nexai right now. The moderators have been told.": (
        "Mô hình `{model}` hiện không có trên nexai. Người kiểm duyệt đã được báo."
    ),
    # refused before any call: too many in flight, or the bot is stopping
    "You already have a request running. Wait for it to finish.": "Bạn đang có một yêu cầu "
    "chưa xong. Hãy đợi nó xong rồi thử lại.",
    "You already have {count} requests running. Wait for one to finish.": "Bạn đang có "
    "{count} yêu cầu chưa xong. Hãy đợi một yêu cầu xong rồi thử lại.",
    "The bot is restarting; please try again in a minute.": "Bot đang khởi động lại; vui lòng "
    "thử lại sau một phút.",
    "⚠️ The answer stopped here because the bot is restarting. Please ask again in a minute.": (
        "⚠️ Câu trả lời dừng ở đây vì bot đang khởi động lại. Vui lòng hỏi lại sau một phút."
    ),
    # /ask
    "The model `{model}` isn't available for chat. Pick one from the list.": "Mô hình "
    "`{model}` không dùng được để trò chuyện. Hãy chọn một mô hình trong danh sách.",
    "`{model}` can't see images. Try a vision model: {models}.": "`{model}` không xem được "
    "ảnh. Hãy thử một mô hình có thị giác: {models}.",
    "That file isn't an image. Attach a PNG, JPEG, GIF or WebP picture.": "Tệp đó không phải "
    "là ảnh. Hãy đính kèm ảnh PNG, JPEG, GIF hoặc WebP.",
    "That image is too large ({size} MB); the limit is {limit} MB.": "Ảnh quá lớn ({size} "
    "MB); giới hạn là {limit} MB.",
    "Your prompt is empty. Write something after the mention.": "Câu hỏi của bạn đang trống. "
    "Hãy viết gì đó sau khi nhắc đến bot.",
    "(The model returned an empty answer.)": "(Mô hình trả về câu trả lời trống.)",
    # /forget
    "I forgot this channel's conversation ({count} messages).": "Mình đã quên cuộc trò chuyện "
    "của kênh này ({count} tin nhắn).",
    # Command names and descriptions
    "Ask nexai anything; the channel's recent conversation goes with it.": "Hỏi nexai bất cứ "
    "điều gì; cuộc trò chuyện gần đây của kênh được gửi kèm.",
    "What you want to ask": "Điều bạn muốn hỏi",
    "An image for the model to look at (vision models)": "Ảnh để mô hình xem (mô hình có thị giác)",
    "A text file or PDF for the model to read (text, Markdown, CSV, JSON, code)": "Tệp văn bản "
    "hoặc PDF để mô hình đọc (văn bản, Markdown, CSV, JSON, mã nguồn)",
    "Only you see the answer, and the channel's memory keeps nothing": "Chỉ bạn thấy câu trả "
    "lời, và bộ nhớ của kênh không lưu lại",
    # Documents attached to a prompt
    "I can't read `{filename}`: it isn't a text file. Attach plain text, Markdown, CSV, "
    "JSON, source code or a PDF.": "Mình không đọc được `{filename}`: đó không phải tệp văn "
    "bản. Hãy đính kèm văn bản thường, Markdown, CSV, JSON, mã nguồn hoặc PDF.",
    "I can't read `{filename}`: it isn't UTF-8 text. Save it as UTF-8 and try again.": "Mình "
    "không đọc được `{filename}`: đó không phải văn bản UTF-8. Hãy lưu tệp ở dạng UTF-8 rồi "
    "thử lại.",
    "`{filename}` is too large ({size} MB); I can read files up to {limit} MB.": "`{filename}` "
    "quá lớn ({size} MB); mình chỉ đọc được tệp tối đa {limit} MB.",
    "`{filename}` is protected by a password, so I can't read it. Attach a copy without "
    "the password.": "`{filename}` được bảo vệ bằng mật khẩu nên mình không đọc được. Hãy "
    "đính kèm một bản không có mật khẩu.",
    "I couldn't open `{filename}`: the PDF seems damaged. Try exporting it again.": "Mình "
    "không mở được `{filename}`: tệp PDF có vẻ bị hỏng. Hãy thử xuất lại tệp.",
    "I found no text in `{filename}`. If it is a scan or made of pictures, attach the "
    "text instead (or the pages as images).": "Mình không tìm thấy chữ nào trong "
    "`{filename}`. Nếu đó là bản quét hoặc toàn hình ảnh, hãy đính kèm phần văn bản (hoặc "
    "gửi các trang dưới dạng ảnh).",
    "Reading `{filename}` took too long. Try a smaller file, or paste the part you need.": "Đọc "
    "`{filename}` mất quá lâu. Hãy thử tệp nhỏ hơn, hoặc dán phần bạn cần.",
    "I can read one file per question. Attach a single file and ask again.": "Mỗi câu hỏi "
    "mình chỉ đọc được một tệp. Hãy đính kèm một tệp rồi hỏi lại.",
    "📄 `{filename}` is too long to read whole: I read only its first {chars} characters.": "📄 "
    "`{filename}` quá dài để đọc hết: mình chỉ đọc {chars} ký tự đầu tiên.",
    "📄 `{filename}` is too long to read whole: I read only its first {pages} of {total} "
    "pages.": "📄 `{filename}` quá dài để đọc hết: mình chỉ đọc {pages} trang đầu trong tổng số "
    "{total} trang.",
    # media: /imagine, /tts, /transcribe, the Transcribe menu, voice notes
    "Something went wrong with that file. Please try again.": "Có lỗi xảy ra với tệp đó. Vui "
    "lòng thử lại.",
    "That file is too large ({size} MB); I can transcribe files up to {limit} MB.": "Tệp quá "
    "lớn ({size} MB); mình chỉ chép lời được tệp tối đa {limit} MB.",
    "`{filename}` isn't an audio or video file. Attach audio (such as MP3, M4A, OGG, WAV "
    "or FLAC) or a video.": "`{filename}` không phải tệp âm thanh hay video. Hãy đính kèm âm "
    "thanh (như MP3, M4A, OGG, WAV hoặc FLAC) hoặc một video.",
    "That message has no audio attachment to transcribe.": "Tin nhắn đó không có tệp âm thanh "
    "nào để chép lời.",
    "I couldn't download that file from Discord. Please try again.": "Mình không tải được tệp "
    "đó từ Discord. Vui lòng thử lại.",
    "Discord didn't send that file at the size it reported ({size} bytes), so I stopped "
    "before transcribing it and you weren't charged. Please try again, or upload the file "
    "again.": "Discord không gửi tệp đó đúng kích thước đã báo ({size} byte) nên mình đã dừng "
    "trước khi chép lời và bạn không bị tính phí. Vui lòng thử lại hoặc tải tệp lên lại.",
    "That text is {length} characters long; I can read at most {limit} at a time.": "Văn bản "
    "dài {length} ký tự; mỗi lần mình chỉ đọc được tối đa {limit} ký tự.",
    "There is no text to read. Write something to turn into speech.": "Không có gì để đọc. Hãy "
    "viết nội dung cần chuyển thành giọng nói.",
    "The result is {size} MB, over this server's upload limit of {limit} MB. "
    "Try a smaller request (fewer images, a shorter text, or mp3 instead of wav).": "Kết quả "
    "nặng {size} MB, vượt giới hạn tải lên {limit} MB của máy chủ này. Hãy thử yêu cầu nhỏ hơn "
    "(ít ảnh hơn, văn bản ngắn hơn, hoặc mp3 thay cho wav).",
    "`{value}` isn't available. Pick one of: {choices}.": "`{value}` không có sẵn. Hãy chọn "
    "một trong: {choices}.",
    "`{language}` isn't a language code. Use a two-letter code such as `en` or `vi`.": "`"
    "{language}` không phải mã ngôn ngữ. Hãy dùng mã hai chữ cái như `en` hoặc `vi`.",
    "🎨 **Prompt:** ": "🎨 **Mô tả:** ",
    "📄 The transcript is {chars} characters long; the whole text is in the file.": "📄 Bản "
    "chép lời dài {chars} ký tự; toàn bộ nội dung nằm trong tệp đính kèm.",
    "(No speech was recognised.)": "(Không nhận ra lời nói nào.)",
    "📝 Transcript of {link}\n": "📝 Bản chép lời của {link}\n",
    "⚠️ I couldn't transcribe this voice message. {reason}": "⚠️ Mình không chép lời được tin "
    "nhắn thoại này. {reason}",
    "Create images from a description.": "Tạo ảnh từ một đoạn mô tả.",
    "What the image should show": "Ảnh cần thể hiện điều gì",
    "Which image model draws it (default: the server's)": "Mô hình tạo ảnh (mặc định: của máy chủ)",
    "Width x height in pixels": "Rộng x cao, tính bằng điểm ảnh",
    "How many images (1 to 4)": "Số ảnh (1 đến 4)",
    "Turn text into speech.": "Chuyển văn bản thành giọng nói.",
    "What to say (up to 4,096 characters)": "Nội dung cần đọc (tối đa 4.096 ký tự)",
    "Which voice reads it": "Giọng đọc",
    "A voice message (default), or an mp3 or wav file": "Một tin nhắn thoại (mặc định), hoặc tệp "
    "mp3 hay wav",
    "🔊 {text}": "🔊 {text}",
    "Read aloud": "Đọc to",
    # Buttons under an answer
    "Stop": "Dừng",
    "Regenerate": "Tạo lại",
    "Continue": "Tiếp tục",
    "Delete": "Xóa",
    "Thread": "Chủ đề",
    "⏹️ Stopped.": "⏹️ Đã dừng.",
    "Only the person who asked can use this button.": "Chỉ người đã hỏi mới dùng được nút này.",
    "Only the person who asked, or a moderator, can use this button.": "Chỉ người đã hỏi "
    "hoặc người điều hành mới dùng được nút này.",
    "That answer is not being written here any more, so there is nothing to stop.": "Câu trả "
    "lời đó không còn đang được viết ở đây nữa, nên không có gì để dừng.",
    "I no longer remember that exchange (it was deleted or forgotten), so I can't do that. "
    "Ask again instead.": "Mình không còn nhớ lượt hỏi đáp đó (nó đã bị xóa hoặc quên) nên "
    "không làm được. Bạn hãy hỏi lại nhé.",
    "A thread can only start from an answer in a server's text channel where nexbot is a "
    "member.": "Chỉ có thể mở chủ đề từ một câu trả lời trong kênh văn bản của máy chủ có "
    "nexbot là thành viên.",
    "This thread continues the answer above, and I remember it: write here to go on.": "Chủ "
    "đề này tiếp nối câu trả lời ở trên, và mình nhớ nó: hãy viết ở đây để tiếp tục.",
    "Continue your previous answer exactly where it stopped, without repeating it.": "Hãy "
    "viết tiếp câu trả lời trước đúng từ chỗ nó dừng, không lặp lại.",
    "🔊 Read aloud": "🔊 Đọc to",
    "🔊 Read aloud: the first {count} characters": "🔊 Đọc to: {count} ký tự đầu tiên",
    "There is no text to read aloud in that message.": "Tin nhắn đó không có chữ nào để đọc to.",
    "Turn speech in an audio or video file into text.": "Chuyển lời nói trong tệp âm thanh "
    "hoặc video thành văn bản.",
    "The audio or video file (up to 50 MB)": "Tệp âm thanh hoặc video (tối đa 50 MB)",
    "The language spoken, as a code like en or vi (default: detected)": "Ngôn ngữ được nói, "
    "dạng mã như en hoặc vi (mặc định: tự nhận biết)",
    "Transcribe": "Chép lời",
    # limits and settings: /limits, /usage, /usage-report, /settings, quota refusals, alerts
    "You need the Manage Server permission for this command.": "Bạn cần quyền Quản lý máy chủ để "
    "dùng lệnh này.",
    "Limit set: {limit}.": "Đã đặt giới hạn: {limit}.",
    "There is no {feature} limit {per_period} for {target}; nothing changed.": "Không có giới hạn "
    "{feature} {per_period} cho {target}; không có gì thay đổi.",
    "Limit removed: {limit}.": "Đã gỡ giới hạn: {limit}.",
    "Before, it was {limit}.": "Trước đó là {limit}.",
    "{role} is now exempt from per-member limits (the server total still applies).": "{role} giờ "
    "được miễn giới hạn theo thành viên (tổng mức của máy chủ vẫn áp dụng).",
    "{role} was already exempt from per-member limits.": "{role} đã được miễn giới hạn theo thành "
    "viên từ trước.",
    "{role} is no longer exempt from per-member limits.": "{role} không còn được miễn giới hạn "
    "theo thành viên.",
    "{role} wasn't exempt from per-member limits.": "{role} vốn không được miễn giới hạn theo "
    "thành viên.",
    "Choose a role or a member, or the server total, not both.": "Hãy chọn một vai trò hoặc thành "
    "viên, hoặc tổng mức máy chủ, không chọn cả hai.",
    "Use a whole number of {unit}.": "Số {unit} phải là số nguyên.",
    "No limits are set: members may use every feature freely.": "Chưa đặt giới hạn nào: thành "
    "viên được dùng mọi tính năng thoải mái.",
    "Exempt from per-member limits: {roles}": "Được miễn giới hạn theo thành viên: {roles}",
    "Windows are fixed UTC hours, days and months.": "Các khoảng tính là giờ, ngày và tháng cố "
    "định theo UTC.",
    "Limits in this server": "Giới hạn trong máy chủ này",
    # refusals and usage lines
    "You've used your {period} limit of {amount} {unit} ({source}). It resets {reset}.": "Bạn đã "
    "dùng hết giới hạn {period} là {amount} {unit} ({source}). Giới hạn được đặt lại {reset}.",
    "This needs {requested} {unit}, but only {remaining} are left of your {period} limit of "
    "{amount} ({source}). It resets {reset}.": "Yêu cầu này cần {requested} {unit}, nhưng giới "
    "hạn {period} {amount} của bạn chỉ còn {remaining} ({source}). Giới hạn được đặt lại {reset}.",
    "This server has used its {period} total of {amount} {unit}, shared by all members. It resets "
    "{reset}.": "Máy chủ đã dùng hết tổng mức {period} là {amount} {unit}, dùng chung cho mọi "
    "thành viên. Mức này được đặt lại {reset}.",
    "This needs {requested} {unit}, but only {remaining} are left of this server's {period} total "
    "of {amount}. It resets {reset}.": "Yêu cầu này cần {requested} {unit}, nhưng tổng mức "
    "{period} {amount} của máy chủ chỉ còn {remaining}. Mức này được đặt lại {reset}.",
    "{bar} {used}/{amount} {unit} {window} ({source}) · {remaining} left · resets {reset}": (
        "{bar} {used}/{amount} {unit} {window} ({source}) · còn {remaining} · đặt lại {reset}"
    ),
    "{bar} {used}/{amount} {unit} {window} (whole server) · {remaining} left · resets {reset}": (
        "{bar} {used}/{amount} {unit} {window} (cả máy chủ) · còn {remaining} · đặt lại {reset}"
    ),
    "this hour": "giờ này",
    "today": "hôm nay",
    "this month": "tháng này",
    "No limit; {used} {unit} used today.": "Không giới hạn; hôm nay đã dùng {used} {unit}.",
    "set for you": "đặt riêng cho bạn",
    "set for your role {role}": "đặt cho vai trò {role} của bạn",
    "the bot's limit for direct messages": "giới hạn của bot cho tin nhắn riêng",
    "the server default": "mặc định của máy chủ",
    "member {member}": "thành viên {member}",
    "role {role}": "vai trò {role}",
    "the whole server (total)": "cả máy chủ (tổng)",
    "direct messages (operator's default)": "tin nhắn riêng (mặc định của người vận hành)",
    "every member (server default)": "mọi thành viên (mặc định của máy chủ)",
    "hourly": "theo giờ",
    "daily": "theo ngày",
    "monthly": "theo tháng",
    "per hour": "mỗi giờ",
    "per day": "mỗi ngày",
    "per month": "mỗi tháng",
    "ask requests": "lượt hỏi",
    "generated images": "ảnh tạo ra",
    "characters of speech": "ký tự chuyển giọng nói",
    "minutes of audio": "phút âm thanh",
    "ask request": "lượt hỏi",
    "generated image": "ảnh tạo ra",
    "character of speech": "ký tự chuyển giọng nói",
    "minute of audio": "phút âm thanh",
    # /usage and /usage-report
    "Your usage": "Mức dùng của bạn",
    "In this server.": "Trong máy chủ này.",
    "In direct messages with me.": "Trong tin nhắn riêng với mình.",
    "Usage report": "Báo cáo sử dụng",
    "From {start} to {end}.": "Từ {start} đến {end}.",
    "No usage in this period.": "Không có lượt sử dụng nào trong chu kỳ này.",
    "{amount} {unit} by {members} members ({calls} calls, {tokens} tokens, {refunded} "
    "refunded)": "{amount} {unit} từ {members} thành viên ({calls} lượt gọi, {tokens} token, "
    "{refunded} lượt hoàn lại)",
    "Top members": "Thành viên dùng nhiều nhất",
    "The CSV is too large to attach; choose a shorter period.": "Tệp CSV quá lớn để đính kèm; hãy "
    "chọn chu kỳ ngắn hơn.",
    "The chart could not be drawn this time; the totals above are complete. Try again in a"
    " minute.": "Lần này chưa vẽ được biểu đồ; các số liệu tổng ở trên vẫn đầy đủ. Hãy thử lại"
    " sau một phút.",
    "Usage {window}": "Mức sử dụng {window}",
    "Minute (UTC)": "Phút (UTC)",
    "Hour of the day (UTC)": "Giờ trong ngày (UTC)",
    "Day of the month (UTC)": "Ngày trong tháng (UTC)",
    "calls": "lượt gọi",
    # /settings
    "Settings of this server": "Cài đặt của máy chủ này",
    "Chat model": "Mô hình trò chuyện",
    "Image model": "Mô hình tạo ảnh",
    "System prompt": "Lời nhắc hệ thống",
    "Voice notes transcribed in": "Chép lời tin nhắn thoại trong",
    "API alerts go to": "Cảnh báo API gửi đến",
    "no channel": "không kênh nào",
    "… and {count} more": "… và {count} mục khác",
    "nowhere (off)": "không nơi nào (tắt)",
    "`{model}` (the bot's default)": "`{model}` (mặc định của bot)",
    "The bot's default.": "Mặc định của bot.",
    "The chat model is now `{model}`.": "Mô hình trò chuyện giờ là `{model}`.",
    "The chat model is back to the bot's default (`{model}`).": "Mô hình trò chuyện đã về mặc "
    "định của bot (`{model}`).",
    "The image model is now `{model}`.": "Mô hình tạo ảnh giờ là `{model}`.",
    "The image model is back to the bot's default (`{model}`).": "Mô hình tạo ảnh đã về mặc định "
    "của bot (`{model}`).",
    "The model `{model}` isn't an image model this bot offers. Pick one from the list.": "Mô hình "
    "`{model}` không phải mô hình tạo ảnh mà bot cung cấp. Hãy chọn một mô hình trong danh sách.",
    "The system prompt is set ({count} characters).": "Đã đặt lời nhắc hệ thống ({count} ký tự).",
    "The system prompt is back to the bot's default.": "Lời nhắc hệ thống đã về mặc định của bot.",
    "Nothing changed.": "Không có gì thay đổi.",
    "Voice messages in {channel} will be transcribed.": "Tin nhắn thoại trong {channel} sẽ được "
    "chép lời.",
    "Voice messages in {channel} won't be transcribed any more.": "Tin nhắn thoại trong {channel} "
    "sẽ không được chép lời nữa.",
    "API alerts are off.": "Cảnh báo API đã tắt.",
    "When nexai refuses the bot's key or credit, or does not serve a model the bot is set to use, "
    "I'll post an alert in {channel}, at most once an hour for each kind.": "Khi nexai từ chối "
    "khóa hoặc tín dụng của bot, hoặc không cung cấp một mô hình mà bot được đặt để dùng, mình sẽ "
    "đăng cảnh báo trong {channel}, mỗi loại tối đa một lần mỗi giờ.",
    "I can't post there yet: give me Send Messages in it.": "Mình chưa đăng được ở đó: hãy cho "
    "mình quyền Gửi tin nhắn trong kênh đó.",
    # alerts (posted in the alert channel, in the server's language)
    "⚠️ **nexai rejected the bot's API key (401).** Commands that use nexai fail until this is "
    "fixed. Operator: check `NEXAI_API_KEY` in the bot's settings, then restart the bot.": "⚠️ "
    "**nexai đã từ chối khóa API của bot (401).** Các lệnh dùng nexai sẽ lỗi cho đến khi sửa "
    "xong. Người vận hành: kiểm tra `NEXAI_API_KEY` trong cài đặt của bot rồi khởi động lại bot.",
    "⚠️ **The bot's nexai account is out of credits.** Commands that use nexai fail until it "
    "is topped up. Operator: add credits to the nexai account; no restart is needed.": "⚠️ **Tài "
    "khoản nexai của bot đã hết tín dụng.** Các lệnh dùng nexai sẽ lỗi cho đến khi được nạp "
    "thêm. Người vận hành: nạp tín dụng vào tài khoản nexai; không cần khởi động lại.",
    "⚠️ **nexai does not serve the model `{model}`, which the bot is set to use.** Commands that "
    "use it fail until this is fixed. Moderators: choose another with `/settings`; operator: check "
    "the bot's model settings with `nexbot check`.": "⚠️ **nexai không cung cấp mô hình "
    "`{model}` mà bot được đặt để dùng.** Các lệnh dùng mô hình này sẽ lỗi cho đến khi sửa xong. "
    "Người kiểm duyệt: chọn mô hình khác bằng `/settings`; người vận hành: kiểm tra cài đặt mô "
    "hình của bot bằng `nexbot check`.",
    "⚠️ **nexai refused the bot's API key (403): it is suspended or expired.** Commands that use "
    "nexai fail until this is fixed. Operator: renew or replace the key, set `NEXAI_API_KEY`, then "
    "restart the bot.": "⚠️ **nexai từ chối khóa API của bot (403): khóa đã bị tạm ngưng hoặc hết "
    "hạn.** Các lệnh dùng nexai sẽ lỗi cho đến khi sửa xong. Người vận hành: gia hạn hoặc thay "
    "khóa, đặt `NEXAI_API_KEY`, rồi khởi động lại bot.",
    "(I won't repeat this alert for an hour.)": "(Mình sẽ không nhắc lại cảnh báo này trong một "
    "giờ.)",
    # command names, options, choices
    "Limit how much members may use each feature (moderators).": "Giới hạn mức thành viên được "
    "dùng mỗi tính năng (cho người kiểm duyệt).",
    "Set a limit (replaces the same one).": "Đặt một giới hạn (thay cho giới hạn cùng loại trước "
    "đó).",
    "Remove a limit.": "Gỡ một giới hạn.",
    "Show this server's limits and exempt roles.": "Xem các giới hạn và vai trò được miễn của máy "
    "chủ này.",
    "Exempt a role from per-member limits, or undo that.": "Miễn giới hạn theo thành viên cho một "
    "vai trò, hoặc bỏ miễn.",
    "What the limit counts": "Giới hạn tính cái gì",
    "The window it counts in (UTC hours, days, months)": "Khoảng thời gian tính (giờ, ngày, tháng "
    "theo UTC)",
    "How much (transcribe: minutes of audio); 0 blocks the feature": "Bao nhiêu (transcribe: số "
    "phút âm thanh); 0 là chặn tính năng",
    "A role or a member (default: every member)": "Một vai trò hoặc một thành viên (mặc định: mọi "
    "thành viên)",
    "Limit all members together instead of each member": "Giới hạn chung cho mọi thành viên thay "
    "vì từng người",
    "The limit on all members together": "Giới hạn chung cho mọi thành viên",
    "The role": "Vai trò",
    "Add the role to the exempt roles, or remove it": "Thêm vai trò vào danh sách được miễn, hoặc "
    "gỡ ra",
    "add": "thêm",
    "/ask (requests)": "/ask (lượt hỏi)",
    "/imagine (images)": "/imagine (ảnh)",
    "/tts (characters)": "/tts (ký tự)",
    "/transcribe (minutes of audio)": "/transcribe (phút âm thanh)",
    "What you have used, and what is left of your limits.": "Bạn đã dùng bao nhiêu và giới hạn "
    "còn lại bao nhiêu.",
    "This server's usage: per feature, top members, and the ledger as CSV.": "Mức sử dụng của máy "
    "chủ: theo tính năng, thành viên dùng nhiều nhất, và sổ ghi dạng CSV.",
    "An hour, a day or a month (UTC)": "Một giờ, một ngày hoặc một tháng (UTC)",
    "How many periods back (0: the current one, 1: the one before...)": "Lùi lại bao nhiêu chu kỳ "
    "(0: chu kỳ hiện tại, 1: chu kỳ trước...)",
    "This server's settings for the bot (moderators).": "Cài đặt bot cho máy chủ này (cho người "
    "kiểm duyệt).",
    "Show this server's settings.": "Xem cài đặt của máy chủ này.",
    "The model for /ask and mentions (empty: the bot's).": "Mô hình cho /ask và khi được nhắc đến "
    "(để trống: của bot).",
    "A chat model; leave empty for the bot's default": "Một mô hình trò chuyện; để trống để dùng "
    "mặc định của bot",
    "The model for /imagine (empty: the bot's).": "Mô hình cho /imagine (để trống: của bot).",
    "An image model; leave empty for the bot's default": "Một mô hình tạo ảnh; để trống để dùng "
    "mặc định của bot",
    "What the model is told before every chat (empty: the bot's).": "Điều mô hình được dặn trước "
    "mỗi cuộc trò chuyện (để trống: của bot).",
    "The system prompt; leave empty for the bot's default": "Lời nhắc hệ thống; để trống để dùng "
    "mặc định của bot",
    "The channel": "Kênh",
    "Transcribe every voice message in a channel, or stop.": "Chép lời mọi tin nhắn thoại trong "
    "một kênh, hoặc dừng.",
    "Transcribe voice messages there (false: stop)": "Chép lời tin nhắn thoại ở đó (false: dừng)",
    "Where to post alerts when nexai refuses the bot (empty: nowhere).": "Nơi đăng cảnh báo khi "
    "nexai từ chối bot (để trống: không đăng).",
    "The channel for alerts; leave empty to turn them off": "Kênh nhận cảnh báo; để trống để tắt",
    # voice-note modes and the language hint (/settings voice-notes, voice-note replies)
    "Voice messages in a channel: transcribe, answer or summarise them, or stop.": "Tin nhắn "
    "thoại trong một kênh: chép lời, trả lời hoặc tóm tắt chúng, hoặc dừng.",
    "What a voice message gets: its transcript, an answer too, or a summary": "Tin nhắn thoại "
    "nhận được gì: bản chép lời, thêm câu trả lời, hoặc bản tóm tắt",
    "In transcript + answer mode, also answer with a voice message": "Ở chế độ chép lời + trả "
    "lời, trả lời thêm bằng tin nhắn thoại",
    "The language spoken there, for every transcription in it": "Ngôn ngữ nói ở đó, dùng cho "
    "mọi lần chép lời trong kênh",
    "transcript": "chép lời",
    "transcript + answer": "chép lời + trả lời",
    "summary": "tóm tắt",
    "detect it": "tự nhận diện",
    "English (en)": "Tiếng Anh (en)",
    "Vietnamese (vi)": "Tiếng Việt (vi)",
    "the transcript": "bản chép lời",
    "the transcript and an answer": "bản chép lời và một câu trả lời",
    "the transcript and an answer, spoken too": "bản chép lời và một câu trả lời, kèm giọng đọc",
    "the transcript, or a summary and a file when it is long": "bản chép lời, hoặc bản tóm tắt "
    "kèm tệp khi tin nhắn dài",
    "detected": "tự nhận diện",
    "English": "tiếng Anh",
    "Vietnamese": "tiếng Việt",
    "In <#{channel_id}>, a voice message gets {mode}; language: {language}.": "Trong "
    "<#{channel_id}>, mỗi tin nhắn thoại nhận được {mode}; ngôn ngữ: {language}.",
    "language: {language}": "ngôn ngữ: {language}",
    "spoken answers": "trả lời bằng giọng nói",
    "Spoken answers need the transcript + answer mode: choose it as the mode too.": "Trả lời "
    "bằng giọng nói cần chế độ chép lời + trả lời: hãy chọn cả chế độ đó.",
    "📝 Summary ({chars} characters of speech; the whole transcript is in the file):": "📝 Tóm "
    "tắt ({chars} ký tự lời nói; toàn bộ bản chép lời nằm trong tệp):",
    # where the bot answers, threads and personas (/ask, /forget, /settings, /persona)
    "mentions and replies to me": "khi được nhắc đến hoặc trả lời tin của mình",
    "every message": "mọi tin nhắn",
    "nothing (off)": "không gì cả (tắt)",
    "set for this thread": "đặt cho luồng này",
    "set for this channel": "đặt cho kênh này",
    "set for this category": "đặt cho danh mục này",
    "set for the server": "đặt cho máy chủ",
    "the bot's default": "mặc định của bot",
    "Messages starting with `{prefix}` are asides the bot leaves alone.": "Tin nhắn bắt đầu "
    "bằng `{prefix}` là lời bên lề, bot để yên.",
    "{value} (not sent: this model takes none)": "{value} (không gửi: mô hình này không nhận "
    "tham số này)",
    "I answer": "Mình trả lời",
    "Model": "Mô hình",
    "Temperature": "Nhiệt độ",
    "System prompt ({source})": "Lời nhắc hệ thống ({source})",
    "A system prompt may use {names}.": "Lời nhắc hệ thống có thể dùng {names}.",
    "model `{model}`": "mô hình `{model}`",
    "temperature {value}": "nhiệt độ {value}",
    "its own system prompt": "lời nhắc hệ thống riêng",
    "A private answer can't open a thread: choose one or the other.": "Câu trả lời riêng tư "
    "không thể mở luồng: hãy chọn một trong hai.",
    "🧵 The answer is in {thread}.": "🧵 Câu trả lời nằm trong {thread}.",
    "You need the Manage Messages permission to clear this conversation's memory.": "Bạn cần "
    "quyền Quản lý tin nhắn để xoá bộ nhớ của cuộc trò chuyện này.",
    "I forgot this thread's conversation ({count} messages).": "Mình đã quên cuộc trò chuyện "
    "của luồng này ({count} tin nhắn).",
    "What answers here": "Ai trả lời ở đây",
    "the model's default": "mặc định của mô hình",
    "Where I answer": "Nơi mình trả lời",
    "Channels with their own chat settings": "Kênh có cài đặt trò chuyện riêng",
    "none": "không có",
    "{mode}, where no channel says otherwise": "{mode}, ở nơi không kênh nào đặt khác",
    "asides start with `{prefix}`": "lời bên lề bắt đầu bằng `{prefix}`",
    "answers open in a new thread": "câu trả lời mở trong luồng mới",
    "{place} now follows the place above it.": "{place} giờ theo cài đặt của nơi bên trên.",
    "In {place} I now answer {mode}.": "Trong {place}, giờ mình trả lời {mode}.",
    "Members can start a message with `{prefix}` to talk without me.": "Thành viên có thể bắt "
    "đầu tin nhắn bằng `{prefix}` để nói chuyện mà không có mình.",
    "The aside prefix can't be blank.": "Tiền tố lời bên lề không được để trống.",
    "/ask and mentions open their answer in a new thread.": "/ask và lượt nhắc đến mở câu trả "
    "lời trong luồng mới.",
    "Answers stay in the channel (/ask can still open a thread).": "Câu trả lời ở lại trong "
    "kênh (/ask vẫn có thể mở luồng).",
    "Where no channel says otherwise, I answer {mode}.": "Ở nơi không kênh nào đặt khác, mình "
    "trả lời {mode}.",
    "Asides start with `{prefix}`.": "Lời bên lề bắt đầu bằng `{prefix}`.",
    "Give a prompt, a model or a temperature to set, or what to reset.": "Hãy đưa lời nhắc, "
    "mô hình hoặc nhiệt độ cần đặt, hoặc thứ cần đặt lại.",
    "The persona of {place} is set.": "Đã đặt nhân cách cho {place}.",
    "{place} now has the persona of the place above it.": "{place} giờ dùng nhân cách của nơi "
    "bên trên.",
    "`{model}` takes no temperature, so it is not sent to it.": "`{model}` không nhận nhiệt "
    "độ, nên nhiệt độ không được gửi cho nó.",
    "Members see it with /persona show.": "Thành viên xem được bằng /persona show.",
    "The temperature is back to the model's default.": "Nhiệt độ đã về mặc định của mô hình.",
    "The server's temperature is now {value}.": "Nhiệt độ của máy chủ giờ là {value}.",
    "Choose a text channel, a category or a thread.": "Hãy chọn một kênh văn bản, một danh mục "
    "hoặc một luồng.",
    # command descriptions, options and choices
    "Which model answers (default: the persona's here)": "Mô hình trả lời (mặc định: của nhân "
    "cách ở đây)",
    "Open the answer in a new thread (default: the server's choice)": "Mở câu trả lời trong "
    "luồng mới (mặc định: theo máy chủ)",
    "Clear the conversation memory of this channel or thread.": "Xoá bộ nhớ hội thoại của kênh "
    "hoặc luồng này.",
    "The persona that answers here.": "Nhân cách trả lời ở đây.",
    "Show where I answer here, and my system prompt, model and temperature.": "Xem nơi mình "
    "trả lời ở đây, cùng lời nhắc hệ thống, mô hình và nhiệt độ.",
    "Where I answer in a channel, category or thread: mentions, all, or off.": "Nơi mình trả "
    "lời trong kênh, danh mục hoặc luồng: khi được nhắc, mọi tin, hoặc tắt.",
    "Mentions and replies, every message, off, or as the place above": "Khi được nhắc và trả "
    "lời, mọi tin nhắn, tắt, hoặc như nơi bên trên",
    "A channel, category or thread (empty: where you are)": "Kênh, danh mục hoặc luồng (để "
    "trống: nơi bạn đang ở)",
    "mentions and replies": "khi được nhắc và trả lời",
    "off": "tắt",
    "as the place above": "như nơi bên trên",
    "Server-wide: where I answer, the aside prefix, answers in threads.": "Toàn máy chủ: nơi "
    "mình trả lời, tiền tố lời bên lề, trả lời trong luồng.",
    "Where channels without their own mode are answered": "Cách trả lời ở kênh không có chế độ "
    "riêng",
    "Messages starting with this are not for me (default //)": "Tin nhắn bắt đầu bằng chuỗi "
    "này không dành cho mình (mặc định //)",
    "Open answers to /ask and mentions in a new thread": "Mở câu trả lời cho /ask và lượt "
    "nhắc đến trong luồng mới",
    "The system prompt, model and temperature of a channel, category or thread.": "Lời nhắc "
    "hệ thống, mô hình và nhiệt độ của kênh, danh mục hoặc luồng.",
    "The system prompt; may use {user} {server} {channel} {date} {time} {locale}": "Lời nhắc "
    "hệ thống; có thể dùng {user} {server} {channel} {date} {time} {locale}",
    "The chat model": "Mô hình trò chuyện",
    "From 0 (focused) to 2 (inventive)": "Từ 0 (tập trung) đến 2 (sáng tạo)",
    "Back to the place above's": "Về như nơi bên trên",
    "the whole persona": "cả nhân cách",
    "the system prompt": "lời nhắc hệ thống",
    "the model": "mô hình",
    "the temperature": "nhiệt độ",
    "The server's chat temperature (empty: the model's default).": "Nhiệt độ trò chuyện của "
    "máy chủ (để trống: mặc định của mô hình).",
}

#: Command, group and option names (Discord's naming rule: lower case, 1-32 characters, no
#: spaces), apart from the text above so that a name and a label with the same English words
#: can differ in Vietnamese.
NAMES: dict[str, str] = {
    "action": "thao-tác",
    "alerts": "cảnh-báo",
    "amount": "mức",
    "answer": "trả-lời",
    "aside": "bên-lề",
    "ask": "hỏi",
    "audio": "âm-thanh",
    "back": "lùi-lại",
    "channel": "kênh",
    "chat-defaults": "mặc-định-trò-chuyện",
    "chat-mode": "chế-độ-trò-chuyện",
    "chat-model": "mô-hình-trò-chuyện",
    "count": "số-lượng",
    "exempt": "miễn-trừ",
    "feature": "tính-năng",
    "file": "tệp",
    "forget": "quên",
    "format": "định-dạng",
    "image": "ảnh",
    "image-model": "mô-hình-ảnh",
    "imagine": "vẽ",
    "language": "ngôn-ngữ",
    "limits": "giới-hạn",
    "mode": "chế-độ",
    "model": "mô-hình",
    "period": "chu-kỳ",
    "persona": "nhân-cách",
    "private": "riêng-tư",
    "prompt": "câu-hỏi",
    "remove": "gỡ",
    "reset": "đặt-lại",
    "role": "vai-trò",
    "server-total": "tổng-máy-chủ",
    "set": "đặt",
    "settings": "cài-đặt",
    "show": "xem",
    "size": "kích-thước",
    "spoken": "đọc-thành-tiếng",
    "system-prompt": "lời-nhắc-hệ-thống",
    "temperature": "nhiệt-độ",
    "text": "văn-bản",
    "thread": "luồng",
    "threads": "luồng-mới",
    "transcribe": "chép-lời",
    "tts": "đọc",
    "usage": "mức-dùng",
    "usage-report": "báo-cáo-sử-dụng",
    "value": "giá-trị",
    "voice": "giọng",
    "voice-notes": "tin-nhắn-thoại",
    "who": "đối-tượng",
}
