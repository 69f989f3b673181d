// TLS material from PEM files, for both sides (the clients' Dialer.java and ping-server's ServerFlags.java):
// certificates and PKCS#8 keys read, and a key checked against its certificate, each error one line.

package pingkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** PEM certificates and keys, read for a flag ({@code --cert}, {@code --key}, {@code --cacert}). */
public final class Pem {
  private Pem() {}

  static byte[] readFile(String flag, Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " " + file + ": no such file");
    } catch (IOException e) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE,
          flag + " " + file + ": cannot read it (" + Pingkit.oneLine(e) + ")");
    }
  }

  public static List<X509Certificate> readCertificates(String flag, Path file) {
    byte[] pem = readFile(flag, file);
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      for (var certificate :
          CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
        certificates.add((X509Certificate) certificate);
      }
    } catch (GeneralSecurityException | RuntimeException e) {
      certificates.clear();
    }
    if (certificates.isEmpty()) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " " + file + ": not a PEM certificate");
    }
    return certificates;
  }

  private static final Pattern PEM_BLOCK =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  public static PrivateKey readPrivateKey(String flag, Path file) {
    String pem = new String(readFile(flag, file), StandardCharsets.US_ASCII);
    Matcher block = PEM_BLOCK.matcher(pem);
    while (block.find()) {
      String type = block.group(1);
      if (type.equals("PRIVATE KEY")) {
        byte[] der = Base64.getMimeDecoder().decode(block.group(2));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
          try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
          } catch (GeneralSecurityException ignored) {
            // not this algorithm: try the next one
          }
        }
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE,
            flag + " " + file + ": unsupported private key algorithm");
      }
      if (type.endsWith("PRIVATE KEY")) {
        throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " " + file + ": '" + type
            + "' is not supported; convert it with"
            + " openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
      }
    }
    throw new Pingkit.UserError(Pingkit.EXIT_USAGE, flag + " " + file + ": not a PEM private key");
  }

  /** Fails clearly when the key does not belong to the certificate, instead of at every handshake. */
  public static void checkKeyMatches(X509Certificate certificate, PrivateKey key, Path certFile, Path keyFile) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
      default -> null;
    };
    if (algorithm == null) {
      return;
    }
    boolean matches;
    try {
      byte[] probe = "pingkit key check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false;
    }
    if (!matches) {
      throw new Pingkit.UserError(Pingkit.EXIT_USAGE,
          "--key " + keyFile + " does not match the certificate in --cert " + certFile);
    }
  }
}
