// Recognizes mails that land in an abuse mailbox but report no abuse: DMARC aggregates, bounces,
// auto-replies and ticket acknowledgements.
#include <array>

#include "formats/mail/mail.hpp"

namespace klartext::formats::mail {

namespace {

bool starts_with_ci(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && iequals(s.substr(0, p.size()), p);
}

bool any_of_ci(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (auto n : needles) {
    if (icontains(text, n)) return true;
  }
  return false;
}

}  // namespace

std::string detect_not_a_report(const ParsedMail& mail) {
  // DMARC aggregate reports (RFC 7489 7.2): XML with <feedback><report_metadata>, usually zipped,
  // file names "receiver!policy-domain!begin!end.xml[.gz|.zip]".
  std::string_view subject = mail.subject;
  for (const auto& p : mail.parts) {
    if (p.depth > 1 && !p.attachment) continue;
    const std::string& fn = p.filename;
    if (std::count(fn.begin(), fn.end(), '!') >= 3 &&
        (icontains(fn, ".xml") || icontains(fn, ".zip") || icontains(fn, ".gz"))) {
      return "dmarc-aggregate";
    }
    if ((p.content_type == "text/xml" || p.content_type == "application/xml") &&
        p.body.find("<report_metadata>") != std::string::npos) {
      return "dmarc-aggregate";
    }
  }
  if (starts_with_ci(subject, "Report domain:") || starts_with_ci(subject, "Report Domain:")) return "dmarc-aggregate";

  // Delivery status notifications (RFC 3464) and classic bounces.
  for (const auto& p : mail.parts) {
    if (p.content_type == "message/delivery-status" || p.content_type == "message/global-delivery-status") {
      return "delivery-status";
    }
  }
  std::string_view from = mail.from_address;
  bool daemon = starts_with_ci(from, "mailer-daemon@") || starts_with_ci(from, "postmaster@") ||
                starts_with_ci(from, "mail-daemon@");
  if (daemon && any_of_ci(subject, {"undeliver", "delivery status", "delivery failure", "mail delivery failed",
                                    "returned mail", "delivery has failed", "failure notice", "unzustellbar",
                                    "rejected", "nicht zugestellt", "delivery failed"})) {
    return "delivery-status";
  }
  if (starts_with_ci(subject, "Undeliverable:") || starts_with_ci(subject, "Undelivered Mail Returned") ||
      starts_with_ci(subject, "Mail delivery failed") || starts_with_ci(subject, "Delivery Status Notification") ||
      starts_with_ci(subject, "Returned mail:") || starts_with_ci(subject, "failure notice")) {
    return "delivery-status";
  }

  // Auto-replies (RFC 3834 "auto-replied"; vendor headers; out-of-office subjects).
  if (iequals(header(mail.fields, "Auto-Submitted"), "auto-replied")) return "auto-reply";
  if (!header(mail.fields, "X-Autoreply").empty() || !header(mail.fields, "X-Autorespond").empty() ||
      iequals(header(mail.fields, "Precedence"), "auto_reply")) {
    return "auto-reply";
  }
  if (any_of_ci(subject, {"out of office", "automatic reply", "autoreply", "auto-reply", "abwesenheitsnotiz",
                          "automatische antwort", "réponse automatique", "respuesta automática"}) ||
      starts_with_ci(subject, "Auto:")) {
    return "auto-reply";
  }
  return {};
}

std::string detect_acknowledgement(const ParsedMail& mail) {
  std::string_view subject = mail.subject;
  // Both the subject and the words must say so: the short subject first.
  bool ack_subject = any_of_ci(subject, {"ticket", "case", "request", "received", "acknowledg", "[#", "eingang",
                                         "eingegangen", "anfrage", "demande", "solicitud"});
  if (!ack_subject) return {};
  const std::string& text = mail_text(mail, false);
  std::string_view head = std::string_view(text).substr(0, 1500);
  // Phrases that acknowledge receipt of *our* message. "A ticket has been created" alone is not
  // enough: providers open tickets for their customers with the abuse notice itself.
  static constexpr std::array<std::string_view, 17> kAck = {
      "we have received your",
      "we've received your",
      "that we have received your",
      "your request has been received",
      "your message has been received",
      "your report has been received",
      "your complaint has been received",
      "wir haben ihre nachricht erhalten",
      "ihre nachricht ist bei uns eingegangen",
      "ihre anfrage ist bei uns eingegangen",
      "wir haben ihre anfrage",
      "ihre meldung ist bei uns eingegangen",
      "wir haben ihre meldung erhalten",
      "nous avons bien reçu votre",
      "hemos recibido su",
      "abbiamo ricevuto la sua",
      "we have logged your",
  };
  for (auto p : kAck) {
    if (icontains(head, p)) return "ticket-acknowledgement";
  }
  return {};
}

}  // namespace klartext::formats::mail
